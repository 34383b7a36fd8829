// The run step: load the compiled model with plain onnxruntime-node — intv is not imported, and
// need not be installed (`npm install --omit=dev` leaves it out) — feed the inputs, and print
// every saved tensor under the name the script gave it.
//
//   npm start                          # inputs from inputs.json, a summary table
//   npm start -- --json [INPUTS.json]  # every value, as JSON on stdout
//
// Which graph output carries which save, and each input's element type, come from
// build/manifest.json, written by the build step. (The same JSON is in the model's
// metadata_props under `intv.manifest`; onnxruntime-node does not expose custom metadata, so the
// file is the simple way to read it here.)

import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes("--json");
const inputsPath = path.resolve(process.cwd(), args.find((a) => !a.startsWith("--")) ?? path.join(here, "inputs.json"));

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
};

/** A nested JSON array as an onnxruntime tensor of the given element type. */
function toTensor(name, elemType, value) {
  const Array_ = ARRAYS[elemType];
  if (!Array_) throw new Error(`input \`${name}\`: element type ${elemType} is not handled by this example`);
  const dims = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  const flat = dims.length === 0 ? [value] : value.flat(Infinity);
  const data = elemType === "int64" ? BigInt64Array.from(flat, (x) => BigInt(x)) : Array_.from(flat, Number);
  return new ort.Tensor(elemType, data, dims);
}

function summary(tensor) {
  const values = Array.from(tensor.data, Number);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return {
    shape: `[${tensor.dims.join(", ")}]`,
    type: tensor.type,
    mean: mean.toFixed(6),
    min: values.reduce((a, b) => Math.min(a, b)).toFixed(6),
    max: values.reduce((a, b) => Math.max(a, b)).toFixed(6),
  };
}

function printTable(rows) {
  const cols = ["name", "shape", "type", "mean", "min", "max"];
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(c.length, ...rows.map((r) => r[c].length))]));
  const line = (r) => cols.map((c) => (c === "name" || c === "shape" || c === "type" ? r[c].padEnd(width[c]) : r[c].padStart(width[c]))).join("  ").trimEnd();
  console.log(line(Object.fromEntries(cols.map((c) => [c, c]))));
  for (const r of rows) console.log(line(r));
}

async function main() {
  let manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(here, "build", "manifest.json"), "utf8"));
  } catch (e) {
    console.error(`error: cannot read build/manifest.json (${e.code ?? e.message}); run \`npm run build\` first`);
    return 1;
  }
  const given = JSON.parse(await readFile(inputsPath, "utf8"));

  // The feeds: the model's own inputs, then the script's params, typed from the manifest.
  const feeds = {};
  const wanted = [
    ...manifest.modelInputs.map((i) => ({ feed: i.name, name: i.name, elemType: i.elemType, optional: false })),
    ...manifest.params.map((p) => ({ feed: p.input, name: p.name, elemType: p.elemType, optional: p.hasDefault, param: p })),
  ];
  for (const w of wanted) {
    if (w.param?.hasDefault && w.name in given) {
      console.error(`error: param \`${w.name}\` has a default, stored in the model as an initializer; onnxruntime-node ignores a value fed for it. Declare it without a default to set it at run time.`);
      return 1;
    }
    if (!(w.name in given)) {
      if (w.optional) continue;
      console.error(`error: ${path.relative(process.cwd(), inputsPath)} has no value for \`${w.name}\``);
      return 1;
    }
    feeds[w.feed] = toTensor(w.name, w.elemType, given[w.name]);
  }

  const session = await ort.InferenceSession.create(path.join(here, "build", "model.onnx"));
  const results = await session.run(feeds); // one run: the model's outputs and every save

  // Saves under the script's names; the model's own outputs keep theirs.
  const named = [
    ...manifest.saves.map((s) => ({ kind: "save", name: s.name, tensor: results[s.output] })),
    ...manifest.modelOutputs.map((o) => ({ kind: "output", name: o.name, tensor: results[o.name] })),
  ];
  if (json) {
    const out = { saves: {}, outputs: {} };
    for (const { kind, name, tensor } of named) {
      out[`${kind}s`][name] = { type: tensor.type, dims: tensor.dims, data: Array.from(tensor.data, (x) => (typeof x === "bigint" ? x.toString() : x)) };
    }
    console.log(JSON.stringify(out));
  } else {
    printTable(named.map(({ kind, name, tensor }) => ({ name: kind === "output" ? `output ${name}` : name, ...summary(tensor) })));
  }
  return 0;
}

process.exitCode = await main();
