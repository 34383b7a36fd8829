// One measured task per process, so that /usr/bin/time -v sees its peak memory alone:
//
//   node dist/bench/tasks.js read MODEL                 read the file (the floor for inspect)
//   node dist/bench/tasks.js protobufjs MODEL OUT       protobufjs decode + encode, write
//   node dist/bench/tasks.js codec MODEL OUT            intv's own ONNX I/O: readModelFile + writeModelFile
//   node dist/bench/tasks.js compile SCRIPT MODEL OUT   compile() + writeModelFile (the API `intv compile` uses)
//   node dist/bench/tasks.js inspect MODEL              readModelFile + module tree + formatted tree
//
// Each prints one JSON line: the time of each phase in ms.

import { open, readFile } from "node:fs/promises";
import { compile, formatTree, prepareModel, readModelFile, writeModelFile } from "../compiler/index.js";
import { onnxRoot } from "../compiler/onnx/reflection.js";

type Phases = Record<string, number>;

async function phase<T>(phases: Phases, name: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await fn();
  phases[name] = (phases[name] ?? 0) + performance.now() - start;
  return value;
}

/** Write and fsync, as writeModelFile with `sync` does, so every writer pays for the disk the same way. */
async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(file, "w");
  try {
    let done = 0;
    while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function runTask(args: string[]): Promise<Phases> {
  const [task, ...rest] = args;
  const phases: Phases = {};
  switch (task) {
    case "read": {
      const bytes = await phase(phases, "read", () => readFile(rest[0]!));
      phases.bytes = bytes.length;
      break;
    }
    case "protobufjs": {
      const type = onnxRoot().lookupType("onnx.ModelProto");
      const bytes = await phase(phases, "read", () => readFile(rest[0]!));
      const message = await phase(phases, "decode", () => type.decode(bytes));
      const out = await phase(phases, "encode", () => type.encode(message).finish());
      await phase(phases, "write", () => writeSynced(rest[1]!, out));
      break;
    }
    case "codec": {
      // The floor under `intv compile`: the same file reader and writer, no compiler in between.
      const { model } = await phase(phases, "read+decode", () => readModelFile(rest[0]!));
      await phase(phases, "encode+write", () => writeModelFile(rest[1]!, model, { sync: true }));
      break;
    }
    case "compile": {
      const [script, model, out] = rest as [string, string, string];
      const source = await readFile(script, "utf8");
      const result = await phase(phases, "compile", () => compile({ source, filename: script, model }));
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      if (!result.model || errors.length > 0) throw new Error(`compile failed: ${JSON.stringify(errors)}`);
      await phase(phases, "write", () => writeModelFile(out, result.model!, { sync: true }));
      break;
    }
    case "inspect": {
      const { model } = await phase(phases, "read+decode", () => readModelFile(rest[0]!));
      const { tree } = await phase(phases, "module tree", () => prepareModel(model));
      const text = await phase(phases, "format", () => formatTree(tree));
      phases.lines = text.split("\n").length;
      break;
    }
    default:
      throw new Error(`unknown task \`${task}\``);
  }
  return phases;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runTask(process.argv.slice(2)).then(
    (phases) => process.stdout.write(JSON.stringify(phases) + "\n"),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
