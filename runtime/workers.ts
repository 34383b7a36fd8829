// Several onnxruntime sessions on one machine: a pool of worker threads (worker.ts), each with its
// own session, running one batch at a time. The threads of the sessions are chosen so that they
// do not oversubscribe the cores: with N workers on C cores each session gets ⌊C / N⌋ threads
// inside an operator (at least 1) and 1 across operators, unless the caller says otherwise.

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DatasetError } from "./batching.js";
import type { DatasetRunner } from "./dataset.js";
import { ModelLoadError, RuntimeDiagnosticError, RuntimeInputError } from "./errors.js";
import type { InputSpec } from "./inputs.js";
import type { ValueInfo } from "./model-info.js";
import type { RunResult, RuntimeOptions } from "./runtime.js";
import type { Manifest, Tensor } from "../common/index.js";
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from "./worker.js";

/** Threads inside an operator for each of `workers` sessions on this machine. */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export class WorkerPool implements DatasetRunner {
  private readonly waiting = new Map<number, { resolve: (r: RunResult) => void; reject: (e: unknown) => void; slot: Slot }>();
  private readonly idle: Array<(slot: Slot) => void> = [];
  private nextId = 0;

  private constructor(
    private readonly slots: Slot[],
    readonly inputs: readonly InputSpec[],
    readonly outputs: readonly ValueInfo[],
    readonly manifest: Manifest | null,
    /** Fetch the model's outputs (false: only the saves). */
    private readonly fetchOutputs: boolean,
  ) {
    for (const slot of slots) {
      slot.worker.on("message", (m: FromWorker) => this.receive(slot, m));
      // A worker that dies (out of memory, a crash in onnxruntime) fails its batch, not silently.
      slot.worker.on("error", (e: Error) => this.fail(slot, new DatasetError(`a worker thread failed: ${e.message}`)));
      slot.worker.on("exit", (code) => this.fail(slot, new DatasetError(`a worker thread stopped (exit code ${code})`)));
    }
  }

  private fail(slot: Slot, e: Error): void {
    for (const [id, w] of this.waiting) {
      if (w.slot !== slot) continue;
      this.waiting.delete(id);
      w.reject(e);
    }
  }

  get concurrency(): number {
    return this.slots.length;
  }

  /**
   * Start `workers` threads, each loading the model (a path, or bytes shared between them).
   * Throws ModelLoadError when a worker cannot load it.
   */
  static async start(model: string | Uint8Array, workers: number, options: RuntimeOptions & { outputs?: boolean } = {}): Promise<WorkerPool> {
    const { outputs = true, ...runtimeOptions } = options;
    let shared: string | SharedArrayBuffer;
    if (typeof model === "string") shared = model;
    else {
      shared = new SharedArrayBuffer(model.byteLength);
      new Uint8Array(shared).set(model);
    }
    const threads: RuntimeOptions = {
      intraOpNumThreads: runtimeOptions.intraOpNumThreads ?? threadsPerWorker(workers),
      interOpNumThreads: runtimeOptions.interOpNumThreads ?? 1,
    };
    // `sources` holds a Map, which a worker receives as is; the rest is plain data.
    const init: WorkerInit = { model: shared, options: { ...runtimeOptions, ...threads } };
    const started = Array.from({ length: workers }, () => new Worker(new URL("./worker.js", import.meta.url), { workerData: init }));
    const slots = started.map((worker) => ({ worker, busy: false }));
    try {
      const ready = await Promise.all(slots.map((slot) => firstMessage(slot.worker)));
      const first = ready[0]!;
      return new WorkerPool(slots, first.inputs, first.outputs, first.manifest, outputs);
    } catch (e) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw e;
    }
  }

  /** Run one batch on the next idle worker. */
  async run(feeds: ReadonlyMap<string, Tensor>): Promise<RunResult> {
    const free = this.slots.find((s) => !s.busy);
    if (free) free.busy = true;
    const slot = free ?? (await new Promise<Slot>((resolve) => this.idle.push(resolve)));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ type: "run", id, feeds: [...feeds], outputs: this.fetchOutputs } satisfies ToWorker);
    });
  }

  async release(): Promise<void> {
    await Promise.all(this.slots.map((s) => new Promise<void>((resolve) => {
      s.worker.once("exit", () => resolve());
      s.worker.postMessage({ type: "close" } satisfies ToWorker);
      setTimeout(() => void s.worker.terminate(), 5000).unref();
    })));
  }

  private receive(slot: Slot, m: FromWorker): void {
    if (m.type === "ready" || m.id === null) return;
    const waiting = this.waiting.get(m.id);
    if (!waiting) return;
    this.waiting.delete(m.id);
    // Hand the slot straight to a caller waiting for one (it stays busy), or mark it idle.
    const next = this.idle.shift();
    if (next) next(slot);
    else slot.busy = false;
    if (m.type === "result") waiting.resolve({ outputs: new Map(m.outputs), saves: new Map(m.saves) });
    else waiting.reject(deserialize(m.error));
  }
}

function firstMessage(worker: Worker): Promise<Extract<FromWorker, { type: "ready" }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker): void => {
      worker.off("error", onError);
      if (m.type === "ready") resolve(m);
      else reject(deserialize(m.type === "error" ? m.error : { name: "Error", message: "a worker did not start" }));
    };
    const onError = (e: Error): void => {
      worker.off("message", onMessage);
      reject(e);
    };
    worker.once("message", onMessage);
    worker.once("error", onError);
  });
}

function deserialize(e: SerializedError): Error {
  if (e.problems) return new RuntimeInputError(e.problems);
  if (e.diagnostics) return new RuntimeDiagnosticError(e.diagnostics);
  if (e.name === "ModelLoadError" || e.name === "OnnxRuntimeMissingError") return new ModelLoadError(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
