// The lines of a dataset, read as a stream: a JSONL file (one JSON object of inputs per line), a
// `.npy` file whose first axis runs over the examples, or a folder of `.npy` files, one per
// example. Only the lines being run are held in memory. Each line carries the cursor to continue
// reading after it, which a checkpoint records so that a resumed run reads on from there.

import { open, readdir, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { InputValue } from "./inputs.js";
import { DatasetError } from "./batching.js";
import { NpyError, NpyRows, readNpy, type Tensor } from "../common/index.js";

/** Where a dataset's lines come from. */
export type LinesSpec =
  | { kind: "jsonl"; path: string }
  /** Named `.npy` files or folders, read in step: line i takes entry i of each. */
  | { kind: "arrays"; sources: readonly { input: string; path: string }[] };

/** Where to continue reading: the number of lines read, and for JSONL the byte offset and line number. */
export interface Cursor {
  line: number;
  offset?: number;
  fileLine?: number;
}

export interface Line {
  /** 0-based position of the line in the dataset. */
  index: number;
  /** How errors name it: `data.jsonl:12`, `ids.npy[11]`, `dir/0011.npy`. */
  where: string;
  values: Record<string, InputValue>;
  /** Where to continue reading after this line. */
  next: Cursor;
}

export interface LineSource {
  /** The number of lines, when known before reading them (arrays), or null (JSONL). */
  readonly total: number | null;
  /** The fraction of the input read so far (bytes of a JSONL file, lines of arrays). */
  fraction(): number;
  /** What identifies the input, to check that a resumed run reads the same data. */
  readonly identity: Record<string, unknown>;
  next(): Promise<Line | null>;
  close(): Promise<void>;
}

/**
 * Open the lines of `spec` from `start` (the beginning when null). `rankOf` gives the rank an
 * input expects, so that an example stored without its batch axis (`ids.npy` of `[N, seq]` for
 * `input_ids: int64[batch, seq]`) gets one of size 1.
 */
export async function openLines(spec: LinesSpec, start: Cursor | null, rankOf: (input: string) => number | null): Promise<LineSource> {
  return spec.kind === "jsonl" ? JsonlSource.open(spec.path, start) : ArraySource.open(spec.sources, start, rankOf);
}

// ---------------------------------------------------------------------------------------------
// JSONL

const CHUNK = 1 << 20;

class JsonlSource implements LineSource {
  readonly total = null;
  private buffer = Buffer.alloc(0);
  /** Byte offset of `buffer[0]` in the file. */
  private bufferStart: number;
  private eof = false;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private readonly size: number,
    readonly identity: Record<string, unknown>,
    private cursor: Required<Cursor>,
  ) {
    this.bufferStart = cursor.offset;
  }

  static async open(path: string, start: Cursor | null): Promise<JsonlSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (e) {
      throw new DatasetError(`cannot read \`${path}\`: ${describeFsError(e)}`);
    }
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      throw new DatasetError(`cannot read \`${path}\`: it is a folder (a folder of .npy files is given as NAME=DIR)`);
    }
    const identity = { kind: "jsonl", path: resolve(path), size: info.size, mtimeMs: info.mtimeMs };
    return new JsonlSource(path, handle, info.size, identity, { line: start?.line ?? 0, offset: start?.offset ?? 0, fileLine: start?.fileLine ?? 0 });
  }

  fraction(): number {
    return this.size === 0 ? 1 : this.cursor.offset / this.size;
  }

  async next(): Promise<Line | null> {
    for (;;) {
      const text = await this.nextLine();
      if (text === null) return null;
      if (text.trim() === "") continue;
      const where = `${this.path}:${this.cursor.fileLine}`;
      const values = await this.parse(text, where);
      const index = this.cursor.line++;
      return { index, where, values, next: { ...this.cursor } };
    }
  }

  /** The next line's text (without its newline), advancing the cursor past it; null at the end. */
  private async nextLine(): Promise<string | null> {
    for (;;) {
      const at = this.cursor.offset - this.bufferStart;
      const nl = this.buffer.indexOf(10, at);
      if (nl >= 0 || (this.eof && at < this.buffer.length)) {
        const end = nl >= 0 ? nl : this.buffer.length;
        const text = this.buffer.toString("utf8", at, end);
        this.cursor.offset = this.bufferStart + end + (nl >= 0 ? 1 : 0);
        this.cursor.fileLine++;
        return text;
      }
      if (this.eof) return null;
      // Keep the unread tail and read the next chunk after it.
      const tail = this.buffer.subarray(at);
      const chunk = Buffer.alloc(Math.max(CHUNK, tail.length));
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.bufferStart + this.buffer.length);
      if (bytesRead === 0) this.eof = true;
      this.bufferStart += at;
      this.buffer = Buffer.concat([tail, chunk.subarray(0, bytesRead)]);
    }
  }

  private async parse(text: string, where: string): Promise<Record<string, InputValue>> {
    let object: unknown;
    try {
      object = JSON.parse(text);
    } catch (e) {
      throw new DatasetError(`${where}: invalid JSON (${(e as Error).message})`);
    }
    if (typeof object !== "object" || object === null || Array.isArray(object)) {
      throw new DatasetError(`${where}: expected a JSON object of inputs (\`{"input_ids": [[1, 2]]}\`)`);
    }
    const values: Record<string, InputValue> = {};
    for (const [name, value] of Object.entries(object)) {
      if (typeof value === "string" && /\.npy$/i.test(value)) {
        try {
          values[name] = await readNpy(resolve(dirname(this.path), value));
        } catch (e) {
          if (e instanceof NpyError) throw new DatasetError(`${where}: input \`${name}\`: ${e.message.replace(resolve(dirname(this.path), value), value)}`);
          throw e;
        }
      } else {
        values[name] = value as InputValue;
      }
    }
    return values;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// .npy files and folders of them

interface ArrayReader {
  readonly input: string;
  readonly path: string;
  readonly count: number;
  read(i: number): Promise<Tensor>;
  where(i: number): string;
  close(): Promise<void>;
  identity: Record<string, unknown>;
}

/** Rows read from the file this many at a time (or fewer, for large rows). */
const READ_AHEAD_BYTES = 4 << 20;

async function openNpyReader(input: string, path: string): Promise<ArrayReader> {
  let rows: NpyRows;
  try {
    rows = await NpyRows.open(path);
  } catch (e) {
    if (e instanceof NpyError) throw new DatasetError(e.message);
    throw e;
  }
  const info = await stat(path);
  const rowBytes = Math.max(1, rows.header.byteLength / Math.max(1, rows.rows));
  const ahead = Math.max(1, Math.floor(READ_AHEAD_BYTES / rowBytes));
  let cache: { start: number; tensor: Tensor } | null = null;
  return {
    input, path, count: rows.rows,
    identity: { kind: "npy", input, path: resolve(path), size: info.size, mtimeMs: info.mtimeMs },
    where: (i) => `${path}[${i}]`,
    async read(i) {
      if (!cache || i < cache.start || i >= cache.start + cache.tensor.dims[0]!) {
        const n = Math.min(ahead, rows.rows - i);
        cache = { start: i, tensor: await rows.read(i, n) };
      }
      const rowDims = rows.rowDims;
      const size = rowDims.reduce((a, b) => a * b, 1);
      const from = (i - cache.start) * size;
      const data = (cache.tensor.data as unknown as { slice(a: number, b: number): Tensor["data"] }).slice(from, from + size);
      return { type: cache.tensor.type, dims: [...rowDims], data } as Tensor;
    },
    close: () => rows.close(),
  };
}

async function openFolderReader(input: string, path: string): Promise<ArrayReader> {
  let names: string[];
  try {
    names = (await readdir(path)).filter((n) => /\.npy$/i.test(n));
  } catch (e) {
    throw new DatasetError(`cannot read the folder \`${path}\`: ${describeFsError(e)}`);
  }
  names.sort(new Intl.Collator("en", { numeric: true }).compare);
  if (names.length === 0) throw new DatasetError(`the folder \`${path}\` has no .npy files`);
  const info = await stat(path);
  return {
    input, path, count: names.length,
    identity: { kind: "folder", input, path: resolve(path), files: names.length, mtimeMs: info.mtimeMs, first: names[0], last: names.at(-1) },
    where: (i) => join(path, names[i]!),
    async read(i) {
      try {
        return await readNpy(join(path, names[i]!));
      } catch (e) {
        if (e instanceof NpyError) throw new DatasetError(e.message);
        throw e;
      }
    },
    close: async () => undefined,
  };
}

class ArraySource implements LineSource {
  readonly total: number;
  readonly identity: Record<string, unknown>;

  private constructor(private readonly readers: readonly ArrayReader[], private line: number, private readonly rankOf: (input: string) => number | null) {
    this.total = readers[0]!.count;
    this.identity = { kind: "arrays", sources: readers.map((r) => r.identity) };
  }

  static async open(sources: readonly { input: string; path: string }[], start: Cursor | null, rankOf: (input: string) => number | null): Promise<ArraySource> {
    const readers: ArrayReader[] = [];
    try {
      for (const { input, path } of sources) {
        let isDir: boolean;
        try {
          isDir = (await stat(path)).isDirectory();
        } catch (e) {
          throw new DatasetError(`cannot read \`${path}\`: ${describeFsError(e)}`);
        }
        readers.push(isDir ? await openFolderReader(input, path) : await openNpyReader(input, path));
      }
      const counts = new Set(readers.map((r) => r.count));
      if (counts.size > 1) {
        throw new DatasetError(`the inputs have different numbers of examples: ${readers.map((r) => `\`${r.input}\` ${r.count} (${basename(r.path)})`).join(", ")}`);
      }
    } catch (e) {
      for (const r of readers) await r.close();
      throw e;
    }
    return new ArraySource(readers, start?.line ?? 0, rankOf);
  }

  fraction(): number {
    return this.total === 0 ? 1 : this.line / this.total;
  }

  async next(): Promise<Line | null> {
    if (this.line >= this.total) return null;
    const index = this.line++;
    const values: Record<string, InputValue> = {};
    for (const r of this.readers) {
      const t = await r.read(index);
      // An example stored without its batch axis gets one of size 1.
      values[r.input] = this.rankOf(r.input) === t.dims.length + 1 ? ({ ...t, dims: [1, ...t.dims] } as Tensor) : t;
    }
    return { index, where: this.readers[0]!.where(index), values, next: { line: this.line } };
  }

  async close(): Promise<void> {
    for (const r of this.readers) await r.close();
  }
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case "ENOENT": return "no such file or directory";
    case "EACCES": return "permission denied";
    case "ENOTDIR": return "a parent is not a directory";
    default: return err.message ?? String(e);
  }
}
