#!/usr/bin/env python3
"""The compiled model as a Spark job: `mapInPandas` with one onnxruntime session per Python worker.

    spark-submit --py-files intv_onnx.py --files save_mlps.onnx spark_job.py \
        --ids hdfs:///data/ids.parquet --out hdfs:///data/acts.parquet --save "mlp[3]"

The input is a table with a column `input_ids` (array<bigint>, one example per row). Each partition
is cut into batches; each batch runs through the model once; each row of the output holds the
example's index and each requested save, flattened (array<float>) with its shape, so that lines of
different lengths need no padding (a batch is then grouped by length before it runs).
"""

import argparse

import numpy as np
import pandas as pd
from pyspark import SparkFiles
from pyspark.sql import SparkSession

from intv_onnx import IntvPredictor, read_manifest


def make_udf(model_file, saves, batch_size, threads):
    def run_partitions(frames):
        predictor = IntvPredictor(SparkFiles.get(model_file), saves=saves, threads=threads)
        for frame in frames:
            for start in range(0, len(frame), batch_size):
                part = frame.iloc[start:start + batch_size]
                rows = {"row": part["row"].to_numpy()}
                for name in saves:
                    rows[name] = []
                    rows[name + ".shape"] = []
                # Rows of equal length share one session.run; others run in their own group.
                lengths = part["input_ids"].map(len).to_numpy()
                results = {}
                for length in np.unique(lengths):
                    at = np.nonzero(lengths == length)[0]
                    ids = np.stack([np.asarray(part["input_ids"].iloc[i], dtype=np.int64) for i in at])
                    out = predictor({"input_ids": ids})
                    for k, i in enumerate(at):
                        results[i] = {name: out[name][k] for name in saves}
                for i in range(len(part)):
                    for name in saves:
                        rows[name].append(results[i][name].reshape(-1).astype(np.float32))
                        rows[name + ".shape"].append(list(results[i][name].shape))
                yield pd.DataFrame(rows)

    return run_partitions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="save_mlps.onnx", help="the compiled model, shipped with --files")
    parser.add_argument("--ids", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--save", action="append")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads per Python worker")
    args = parser.parse_args()

    spark = SparkSession.builder.appName("intv-activations").getOrCreate()
    saves = args.save or [s["name"] for s in read_manifest(SparkFiles.get(args.model))["saves"]]
    df = spark.read.parquet(args.ids)
    if "row" not in df.columns:
        from pyspark.sql.functions import monotonically_increasing_id

        df = df.withColumn("row", monotonically_increasing_id())
    schema = "row long, " + ", ".join("`%s` array<float>, `%s.shape` array<int>" % (n, n) for n in saves)
    df.select("row", "input_ids").mapInPandas(make_udf(args.model, saves, args.batch_size, args.threads), schema).write.parquet(args.out)


if __name__ == "__main__":
    main()
