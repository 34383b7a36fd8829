// What the weight copy of `writeModelFile` (compiler/onnx/stream.ts) was tuned on: copying a file
// from the page cache through one buffer, by block size and by where in the buffer a block goes.
//
//   node dist/bench/copy.js [FILE] [--runs N]
//
// Rows: reads alone (into the buffer) and read + write (to a new file in bench/cache/work), for
// 1 MiB and 4 MiB blocks, each at offset 0 of a fresh buffer and at half a page. The file offsets
// are multiples of the block, so offset 0 puts a page-aligned block of the file at a page-aligned
// place in the buffer (Node's large buffers are page-aligned here): the case that hits 4K aliasing.
// Runs are interleaved round-robin; each cell is the median of N. The file is read once first so
// that it is in the page cache.

import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync, mkdirSync } from "node:fs";
import path from "node:path";
import { MODEL, WORK } from "./paths.js";
import { median } from "./stats.js";

const MiB = 1024 * 1024;

interface Row {
  label: string;
  block: number;
  offset: number;
  write: boolean;
}

function copyOnce(file: string, out: string, row: Row): number {
  const size = statSync(file).size;
  const buffer = new Uint8Array(row.block + 4096).subarray(row.offset, row.offset + row.block);
  const from = openSync(file, "r");
  rmSync(out, { force: true });
  const to = row.write ? openSync(out, "wx") : -1;
  const start = performance.now();
  try {
    for (let pos = 0; pos < size; pos += row.block) {
      const n = Math.min(row.block, size - pos);
      let done = 0;
      while (done < n) done += readSync(from, buffer, done, n - done, pos + done);
      if (row.write) for (let w = 0; w < n; ) w += writeSync(to, buffer, w, n - w, pos + w);
    }
    return performance.now() - start;
  } finally {
    closeSync(from);
    if (to >= 0) closeSync(to);
    rmSync(out, { force: true });
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--runs") ?? MODEL;
  mkdirSync(WORK, { recursive: true });
  const out = path.join(WORK, "copy-out.bin");
  readFileSync(file);
  const rows: Row[] = [];
  for (const write of [false, true]) {
    for (const block of [MiB, 4 * MiB]) {
      for (const offset of [0, 2048]) {
        rows.push({ label: `${write ? "read + write" : "read"}, ${block / MiB} MiB blocks, buffer offset ${offset}`, block, offset, write });
      }
    }
  }
  const times = rows.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) rows.forEach((row, i) => times[i]!.push(copyOnce(file, out, row)));
  const mb = statSync(file).size / 1e6;
  console.log(`${path.basename(file)}, ${mb.toFixed(0)} MB, median of ${runs} runs each, interleaved\n`);
  console.log("| copy | median | MB/s |\n|---|---|---|");
  rows.forEach((row, i) => {
    const t = median(times[i]!);
    console.log(`| ${row.label} | ${t.toFixed(0)} ms | ${((mb * 1000) / t).toFixed(0)} |`);
  });
}

main();
