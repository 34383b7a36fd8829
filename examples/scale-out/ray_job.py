#!/usr/bin/env python3
"""The compiled model as a Ray Data batch job: activations of a dataset of token ids, on a cluster.

    ray start --head            # or submit to an existing cluster: ray job submit -- python3 ray_job.py ...
    python3 ray_job.py --model save_mlps.onnx --ids s3://bucket/ids/ --out s3://bucket/acts/ --save "mlp[3]"

- `read_numpy` splits the .npy files of token ids ([N, seq] each, equal lengths) into blocks;
- `map_batches` runs `IntvPredictor` (intv_onnx.py) in a pool of actors, each holding one
  onnxruntime session with its share of a node's cores, on batches of `--batch-size` rows;
- each save comes back as a column named as in the script and is written as .npy files.

Ray moves the blocks between nodes; onnxruntime runs the one compiled model, saves and all, in one
`session.run` per batch — the same model `intv run` runs. Lines of different lengths: pad them and
give `attention_mask` as a column (the model must take one), then cut each save back to its line's
length, as `intv run --pad` does; or group rows by length first (`ds.groupby(...)`).
"""

import argparse

import ray

from intv_onnx import IntvPredictor, read_manifest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the compiled .onnx file, readable from every node")
    parser.add_argument("--ids", required=True, help=".npy file(s) of int64 token ids [N, seq]")
    parser.add_argument("--out", required=True, help="where to write the saves")
    parser.add_argument("--save", action="append", help="a save to fetch (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--actors", type=int, default=4, help="onnxruntime sessions in the cluster")
    parser.add_argument("--cpus-per-actor", type=int, default=4)
    args = parser.parse_args()

    saves = args.save or [s["name"] for s in read_manifest(args.model)["saves"]]
    ray.init()
    ds = ray.data.read_numpy(args.ids)  # one column, "data": a row of token ids per example
    acts = ds.map_batches(
        IntvPredictor,
        fn_constructor_kwargs={"model": args.model, "saves": saves, "columns": {"input_ids": "data"}, "threads": args.cpus_per_actor},
        batch_size=args.batch_size,
        batch_format="numpy",
        concurrency=args.actors,
        num_cpus=args.cpus_per_actor,
    )
    for name in saves:
        # One folder per save; each .npy file holds a block's rows, [rows, 1, seq, d] for an MLP output.
        acts.select_columns([name]).write_numpy("%s/%s" % (args.out.rstrip("/"), name.replace("[", ".").replace("]", "")), column=name)


if __name__ == "__main__":
    main()
