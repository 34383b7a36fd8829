// Summarise a V8 CPU profile (`node --cpu-prof`): self time by function and by source file,
// so BENCHMARKS.md can say what costs what. Usage: node dist/bench/profile.js FILE.cpuprofile [top]

import { readFileSync } from "node:fs";
import { ROOT, shown } from "./paths.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface Hotspot {
  name: string;
  /** Self time in ms. */
  selfMs: number;
  /** Share of all sampled time. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Sampled time with the thread idle (waiting for I/O or other threads); shares are of the rest. */
  idleMs: number;
  functions: Hotspot[];
  files: Hotspot[];
}

function where(url: string): string {
  if (url === "") return "(native)";
  let file = url.startsWith("file://") ? url.slice("file://".length) : url;
  if (file.startsWith(ROOT)) file = shown(file);
  return file;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    const f = where(n.callFrame.url);
    const fn = n.callFrame.functionName || "(anonymous)";
    const key = n.callFrame.url === "" ? fn : `${fn} (${f}:${n.callFrame.lineNumber + 1})`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    files.set(n.callFrame.url === "" ? fn : f, (files.get(n.callFrame.url === "" ? fn : f) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, selfMs: us / 1000, share: us / (total - idle) }));
  return { totalMs: total / 1000, idleMs: idle / 1000, functions: rank(fns), files: rank(files) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = summarizeProfile(process.argv[2]!, Number(process.argv[3] ?? 25));
  console.log(`total sampled ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`);
  for (const h of s.functions) console.log(`${h.selfMs.toFixed(0).padStart(7)} ms ${(100 * h.share).toFixed(1).padStart(5)}%  ${h.name}`);
  console.log("-- by file");
  for (const h of s.files) console.log(`${h.selfMs.toFixed(0).padStart(7)} ms ${(100 * h.share).toFixed(1).padStart(5)}%  ${h.name}`);
}
