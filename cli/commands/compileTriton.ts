// `intv compile --triton DIR`: the compiled model in Triton Inference Server's model repository
// layout, DIR/NAME/1/model.onnx with DIR/NAME/config.pbtxt written from its manifest
// (runtime/triton.ts; examples/scale-out/README.md shows it served).

import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { MANIFEST_KEY, parseManifest } from "../../common/index.js";
import type { ParsedArgs } from "../args.js";
import { CliError } from "../output.js";

export const TRITON_OPTIONS = [
  { name: "triton", value: "DIR", description: "write a Triton model repository: DIR/NAME/config.pbtxt and DIR/NAME/1/model.onnx" },
  { name: "triton-name", value: "NAME", description: "the model's name in the repository (default: the script's name)" },
  { name: "triton-max-batch", value: "N", description: "Triton's max_batch_size, when the model has a batch axis (default 64)" },
] as const;

// The runtime (triton.ts, model-info.ts) is imported when these run: `intv compile` without --triton
// and every other command load this file without it (see run.ts).
const runtime = () => import("../../runtime/index.js");

/** DIR/NAME/1/model.onnx (its folders created). */
export async function tritonModelPath(dir: string, args: ParsedArgs, script: string): Promise<string> {
  const { tritonModelName } = await runtime();
  const name = tritonModelName(args.string("triton-name") ?? path.basename(script).replace(/\.intv$/i, ""));
  const version = path.join(dir, name, "1");
  try {
    mkdirSync(version, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create the folder \`${version}\`: ${(e as Error).message}`);
  }
  return path.join(version, "model.onnx");
}

/** Write config.pbtxt for the model at DIR/NAME/1/model.onnx; returns its path. */
export async function writeTritonConfig(modelPath: string, maxBatchSize?: number): Promise<string> {
  const { readModelInfoFromFile, tritonConfig } = await runtime();
  const folder = path.dirname(path.dirname(modelPath));
  const info = readModelInfoFromFile(modelPath);
  const json = info.metadata.get(MANIFEST_KEY);
  let text: string;
  try {
    text = tritonConfig({ inputs: info.inputs, outputs: info.outputs, initializers: info.initializers, manifest: json === undefined ? null : parseManifest(json) }, { name: path.basename(folder), ...(maxBatchSize ? { maxBatchSize } : {}) });
  } catch (e) {
    throw new CliError(`cannot write a Triton configuration: ${(e as Error).message}`);
  }
  const file = path.join(folder, "config.pbtxt");
  await writeFile(file, text);
  return file;
}
