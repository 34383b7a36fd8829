#!/usr/bin/env python3
"""Run an intv-compiled model from Python, with nothing of intv installed.

A model compiled by `intv compile` is a plain ONNX file: each save is an extra graph output and the
manifest (which outputs are saves, their names in the script, their types and shapes) is stored as
JSON in the model's metadata under `intv.manifest`. Python's onnxruntime reads that metadata
(`session.get_modelmeta().custom_metadata_map`), so the same model runs in any Python batch engine
(Ray Data, Spark, Dask, a plain loop) and returns the saves by their script names.

    python3 intv_onnx.py describe MODEL.onnx            # the saves and params, from the manifest
    python3 intv_onnx.py run MODEL.onnx IDS.npy OUT/    # every row of IDS.npy through the model, in batches

`IntvPredictor` is the piece the Ray and Spark jobs (ray_job.py, spark_job.py) use: constructed once
per worker (it loads the session), called on a batch (a dict of NumPy arrays), returning the saves.

Needs numpy, and onnxruntime to run a model; `describe` also works with the `onnx` package alone.
"""

import argparse
import json
import os
import sys

import numpy as np

MANIFEST_KEY = "intv.manifest"


def read_manifest(model_path):
    """The manifest of a compiled model, as a dict; read with onnxruntime, or with onnx if that is all there is."""
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        meta = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"]).get_modelmeta()
        text = meta.custom_metadata_map.get(MANIFEST_KEY)
    except ImportError:
        import onnx

        model = onnx.load(model_path, load_external_data=False)
        text = next((p.value for p in model.metadata_props if p.key == MANIFEST_KEY), None)
    if text is None:
        raise ValueError("%s has no %s metadata: it was not compiled by intv" % (model_path, MANIFEST_KEY))
    manifest = json.loads(text)
    if manifest.get("format") != "intv-manifest/1":
        raise ValueError("%s: unknown manifest format %r" % (model_path, manifest.get("format")))
    return manifest


class IntvPredictor:
    """One onnxruntime session of a compiled model, returning the saves of a batch by their script names.

    model:    path of the compiled .onnx file (on every worker: a shared file system, or shipped with the job)
    saves:    the saves to fetch (script names, e.g. ["mlp[3]"]); default: all
    columns:  model input name -> batch column name (default: the same names)
    params:   script params given once, by name -> NumPy array
    threads:  onnxruntime's threads inside an operator; give each worker its share of the cores
    """

    def __init__(self, model, saves=None, columns=None, params=None, threads=None):
        import onnxruntime as ort

        self.manifest = read_manifest(model)
        by_name = {s["name"]: s for s in self.manifest["saves"]}
        unknown = [name for name in (saves or []) if name not in by_name]
        if unknown:
            raise ValueError("no save %s in %s; it saves %s" % (unknown, model, sorted(by_name)))
        self.saves = [by_name[name] for name in (saves or by_name)]
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name: i for i in self.session.get_inputs()}
        param_inputs = {p["name"]: p["input"] for p in self.manifest["params"]}
        self.params = {param_inputs.get(k, k): np.asarray(v) for k, v in (params or {}).items()}
        self.columns = columns or {}

    def __call__(self, batch):
        feeds = dict(self.params)
        for name in self.inputs:
            if name in feeds:
                continue
            column = self.columns.get(name, name)
            if column in batch:
                feeds[name] = np.ascontiguousarray(np.stack(list(batch[column])) if batch[column].dtype == object else batch[column])
        outputs = self.session.run([s["output"] for s in self.saves], feeds)
        return {s["name"]: value for s, value in zip(self.saves, outputs)}


def describe(model_path):
    manifest = read_manifest(model_path)
    return {
        "script": manifest["script"],
        "saves": [{"name": s["name"], "output": s["output"], "elemType": s["elemType"], "shape": s["shape"]} for s in manifest["saves"]],
        "params": [{"name": p["name"], "input": p["input"], "elemType": p["elemType"], "shape": p["shape"]} for p in manifest["params"]],
    }


def run_local(model_path, ids_path, out_dir, batch_size, input_name):
    """IDS.npy's rows through the model, batch by batch, each save streamed to OUT/NAME.npy
    (intv's stacked layout: [rows, *one row's result]) with NumPy's memory-mapped writer."""
    predictor = IntvPredictor(model_path)
    ids = np.load(ids_path, mmap_mode="r")
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for start in range(0, len(ids), batch_size):
        rows = np.ascontiguousarray(ids[start:start + batch_size])
        result = predictor({input_name: rows})
        for name, value in result.items():
            if name not in files:
                path = os.path.join(out_dir, name.replace("[", ".").replace("]", "") + ".npy")
                files[name] = np.lib.format.open_memmap(path, mode="w+", dtype=value.dtype, shape=(len(ids),) + value.shape[1:])
            files[name][start:start + len(rows)] = value
    for f in files.values():
        f.flush()
    return sorted(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("describe", help="print the saves and params of a compiled model as JSON")
    d.add_argument("model")
    r = sub.add_parser("run", help="run every row of an .npy file of token ids through the model")
    r.add_argument("model")
    r.add_argument("ids")
    r.add_argument("out")
    r.add_argument("--batch-size", type=int, default=32)
    r.add_argument("--input", default="input_ids")
    args = parser.parse_args(argv)
    if args.command == "describe":
        json.dump(describe(args.model), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("wrote", ", ".join(run_local(args.model, args.ids, args.out, args.batch_size, args.input)))


if __name__ == "__main__":
    main()
