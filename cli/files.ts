// Files the command line writes: never over an input, and with a message that names the file and
// says what is wrong (not the temporary file's name). Writing atomically is common/atomicWrite.ts.

import { realpathSync } from "node:fs";
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
