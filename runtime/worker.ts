// The entry of a worker thread of a WorkerPool (workers.ts): one onnxruntime session, running the
// batches the main thread posts and posting the results back (their buffers moved, not copied).
// Bundled as its own file (tools/bundle.ts), found next to the code that starts it.

import { parentPort, workerData } from "node:worker_threads";
import { RuntimeDiagnosticError, RuntimeInputError } from "./errors.js";
import type { InputSpec } from "./inputs.js";
import type { ValueInfo } from "./model-info.js";
import { Runtime, type RuntimeOptions } from "./runtime.js";
import type { Manifest, Tensor } from "../common/index.js";

export interface WorkerInit {
  /** A model path, or its bytes in a SharedArrayBuffer (shared by every worker, not copied). */
  model: string | SharedArrayBuffer;
  options: RuntimeOptions;
}

export type ToWorker =
  | { type: "run"; id: number; feeds: [string, Tensor][]; outputs: boolean }
  | { type: "close" };

export interface SerializedError {
  name: string;
  message: string;
  problems?: string[];
  diagnostics?: RuntimeDiagnosticError["diagnostics"];
}

export type FromWorker =
  | { type: "ready"; inputs: InputSpec[]; outputs: ValueInfo[]; manifest: Manifest | null }
  | { type: "result"; id: number; outputs: [string, Tensor][]; saves: [string, Tensor][] }
  | { type: "error"; id: number | null; error: SerializedError };

function serialize(e: unknown): SerializedError {
  const err = e as Error;
  const out: SerializedError = { name: err?.name ?? "Error", message: err?.message ?? String(e) };
  if (e instanceof RuntimeInputError) out.problems = e.problems;
  if (e instanceof RuntimeDiagnosticError) out.diagnostics = e.diagnostics;
  return out;
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  let runtime: Runtime;
  try {
    // onnxruntime-node takes bytes in an ArrayBuffer, not a SharedArrayBuffer: one copy here.
    runtime = await Runtime.load(typeof init.model === "string" ? init.model : new Uint8Array(init.model).slice(), init.options);
  } catch (e) {
    port.postMessage({ type: "error", id: null, error: serialize(e) } satisfies FromWorker);
    return;
  }
  port.postMessage({ type: "ready", inputs: [...runtime.inputs], outputs: [...runtime.outputs], manifest: runtime.manifest } satisfies FromWorker);
  port.on("message", (message: ToWorker) => {
    if (message.type === "close") {
      void runtime.release().finally(() => port.close());
      return;
    }
    const { id, feeds, outputs } = message;
    runtime.run(Object.fromEntries(feeds), { outputs }).then((result) => {
      const reply: FromWorker = { type: "result", id, outputs: [...result.outputs], saves: [...result.saves] };
      const buffers = new Set<ArrayBuffer>();
      for (const [, t] of [...reply.outputs, ...reply.saves]) if (t.data.buffer instanceof ArrayBuffer) buffers.add(t.data.buffer);
      try {
        port.postMessage(reply, [...buffers]);
      } catch {
        port.postMessage(reply); // a buffer that cannot be moved is copied
      }
    }, (e: unknown) => {
      port.postMessage({ type: "error", id, error: serialize(e) } satisfies FromWorker);
    });
  });
}

void main();
