#!/usr/bin/env python3
"""Ask a Triton Inference Server for a compiled model's saves.

    npx intv compile examples/save_mlps.intv --model examples/gpt2.onnx --triton models
    docker run --rm -p8000:8000 -v $PWD/models:/models nvcr.io/nvidia/tritonserver:24.08-py3 \
        tritonserver --model-repository=/models
    python3 triton_client.py --model save_mlps --save "mlp[3]" --ids examples/input_ids.npy

`config.pbtxt` (written by `intv compile --triton`) lists every save as an output under its graph
output name and maps the script's names to them in its `parameters` (`intv.save.mlp[3]`), which this
client reads back from the server, so it asks for saves by their names in the script.
"""

import argparse

import numpy as np
import tritonclient.http as http


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="localhost:8000")
    parser.add_argument("--model", default="save_mlps")
    parser.add_argument("--save", action="append", required=True)
    parser.add_argument("--ids", required=True, help=".npy of int64 token ids [batch, seq]")
    args = parser.parse_args()

    client = http.InferenceServerClient(args.url)
    config = client.get_model_config(args.model)
    outputs = {k[len("intv.save."):]: v["string_value"] for k, v in config.get("parameters", {}).items() if k.startswith("intv.save.")}
    ids = np.load(args.ids).astype(np.int64)
    request = http.InferInput("input_ids", list(ids.shape), "INT64")
    request.set_data_from_numpy(ids)
    wanted = [http.InferRequestedOutput(outputs[name]) for name in args.save]
    result = client.infer(args.model, [request], outputs=wanted)
    for name in args.save:
        value = result.as_numpy(outputs[name])
        print(name, value.shape, value.dtype, float(value.mean()))


if __name__ == "__main__":
    main()
