// Files the command line writes besides models (manifests, SVG): atomically, never over an input,
// and with a message that names the file and says what is wrong (not the temporary file's name).

import { randomBytes } from "node:crypto";
import { realpathSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";

/** True when `a` and `b` name the same file, whatever the spelling or symlinks. */
export function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      try {
        return path.join(realpathSync(path.dirname(path.resolve(p))), path.basename(p));
      } catch {
        return path.resolve(p);
      }
    }
  };
  return real(a) === real(b);
}

/** Write `data` to a new temporary file next to `file`; returns its path (rename it into place). */
export async function writeTemporary(file: string, data: string | Uint8Array): Promise<string> {
  const tmp = path.join(path.dirname(path.resolve(file)), `.intv-tmp-${path.basename(file)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  const fh = await open(tmp, "wx");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Replace `file` with `data`, or leave it as it was. */
export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTemporary(file, data);
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** `cannot write `FILE`: why`, in words, for a failed write of `file`. */
export function writeProblem(file: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const dir = path.dirname(file);
  switch (code) {
    case "ENOENT":
      return `cannot write \`${file}\`: the folder \`${dir}\` does not exist`;
    case "ENOTDIR":
      return `cannot write \`${file}\`: \`${dir}\` is not a folder`;
    case "EISDIR":
      return `cannot write \`${file}\`: it is a folder`;
    case "EACCES":
    case "EPERM":
      return `cannot write \`${file}\`: permission denied`;
    case "EROFS":
      return `cannot write \`${file}\`: the file system is read-only`;
    case "ENOSPC":
      return `cannot write \`${file}\`: no space left on the device`;
    default:
      return `cannot write \`${file}\`: ${(e as Error).message}`;
  }
}
