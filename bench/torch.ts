// The PyTorch side of the benchmark: a long-lived Python worker (tools/bench/torch_worker.py)
// that runs eager GPT-2 with forward hooks, one JSON line per command each way. The benchmark
// alternates its calls with onnxruntime runs in the same session.

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { INPUT_IDS, PYTHON, TORCH_WORKER, WEIGHTS } from "./paths.js";

export type TorchScenario = "plain" | "saves" | "patches" | "seed5" | "two_pass";

interface Reply {
  ok: boolean;
  error?: string;
  [key: string]: unknown;
}

/**
 * Environment of the worker. Debian's torch runs its own kernels on OpenMP and matrix products on
 * a pthread OpenBLAS: with OpenMP's idle threads spinning, the two pools fight over the cores, so
 * OpenMP waits passively (as onnxruntime's threads do with spinning off), and OpenBLAS gets the
 * same thread count as torch.
 */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
}

export class TorchWorker {
  private readonly pending: Array<(reply: Reply) => void> = [];
  private readonly lines: Interface;
  private stderr = "";

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on("line", (line) => {
      const resolve = this.pending.shift();
      if (resolve) resolve(JSON.parse(line) as Reply);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    child.on("exit", (code) => {
      for (const resolve of this.pending.splice(0)) resolve({ ok: false, error: `the PyTorch worker exited (${code}): ${this.stderr.trim()}` });
    });
  }

  static async start(threads: number): Promise<{ worker: TorchWorker; info: Reply }> {
    const child = spawn(PYTHON, [TORCH_WORKER], { env: torchEnv(threads), stdio: ["pipe", "pipe", "pipe"] });
    const worker = new TorchWorker(child);
    const info = await worker.request({ cmd: "load", weights: WEIGHTS, input_ids: INPUT_IDS, threads });
    return { worker, info };
  }

  /** One run of a scenario on the first `seq` tokens; the worker's own time of hooks + forward pass(es), in ms. */
  async run(scenario: TorchScenario, seq: number, dump?: string): Promise<number> {
    const reply = await this.request({ cmd: "run", scenario, seq, ...(dump ? { dump } : {}) });
    return reply.ms as number;
  }

  /** Greedy generation with the model's own KV cache and, with `steer` (a .npy path), a steering hook; ms and the tokens. */
  async generate(prompt: number, newTokens: number, steer: string | null, layer: number, alpha: number): Promise<{ ms: number; tokens: number[] }> {
    const reply = await this.request({ cmd: "generate", prompt, new: newTokens, steer, layer, alpha });
    return { ms: reply.ms as number, tokens: reply.tokens as number[] };
  }

  async quit(): Promise<void> {
    await this.request({ cmd: "quit" });
    this.lines.close();
  }

  private request(msg: object): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.pending.push((reply) => (reply.ok ? resolve(reply) : reject(new Error(`PyTorch worker: ${reply.error}`))));
      this.child.stdin.write(JSON.stringify(msg) + "\n");
    });
  }
}
