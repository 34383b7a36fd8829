#!/usr/bin/python3
"""PyTorch side of the dataset benchmark (bench/dataset.ts): the loop a hook-based tool runs to
collect activations over a dataset, timed the same way as `intv run --inputs`.

    /usr/bin/python3 tools/bench/torch_dataset.py --ids IDS.npy --batch-size 32 --out DIR [--threads 2]

Eager GPT-2 (the benchmark model's weights, bench/cache/gpt2-small.pt) with a forward hook on
every MLP (the 12 saves of `save mlp[l] = transformer.h[l].mlp.output`), run under
torch.inference_mode() on batches of `--batch-size` rows of IDS.npy; each batch's 12 activations
are written to DIR/mlp.L.npy through NumPy's memory-mapped writer, in intv's stacked layout
([examples, 1, seq, 768]), so both sides do the same work: run, collect, write. Prints one JSON
line: {"examples": N, "seconds": S, "load_seconds": L} — S from the first batch to the last write,
without loading the model, as intv's `seconds` is.

With --no-head the loop calls model.transformer (no lm_head): what a tool that stops the forward
pass after the last hook does, and what `intv run --saves-only` gets from the compiled graph.

With --small the model is examples/gpt2.onnx's (tools/fixtures/models.py's GPT2_CONFIG: 12 layers of
width 32, vocabulary 96, 32 positions), built with export.py's seeds: where intv's per-call costs,
not the matrix products, would dominate.

Run with the environment bench/torch.ts sets (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
sys.path.insert(0, HERE)

from generate import CACHE, CONFIG  # noqa: E402
from models import GPT2_CONFIG, GPT2LMHeadModel, init_gpt2  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--weights", default=os.path.join(CACHE, "gpt2-small.pt"))
    parser.add_argument("--no-head", action="store_true", help="run model.transformer only: stop before lm_head, after the last save")
    parser.add_argument("--small", action="store_true", help="examples/gpt2.onnx's model (width 32) instead of the benchmark's")
    args = parser.parse_args()

    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    if args.small:
        torch.manual_seed(0)
        model = GPT2LMHeadModel(GPT2_CONFIG)
        init_gpt2(model, torch.Generator().manual_seed(1))
    else:
        model = GPT2LMHeadModel(CONFIG)
        model.load_state_dict(torch.load(args.weights))
    model.eval()
    ids = np.load(args.ids, mmap_mode="r")
    os.makedirs(args.out, exist_ok=True)
    load_seconds = time.perf_counter() - start

    start = time.perf_counter()
    acts = {}
    handles = [
        block.mlp.register_forward_hook(lambda m, i, o, l=l: acts.__setitem__(l, o))
        for l, block in enumerate(model.transformer.h)
    ]
    files = {}
    n, seq = ids.shape
    with torch.inference_mode():
        for at in range(0, n, args.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(ids[at:at + args.batch_size]))
            model.transformer(batch) if args.no_head else model(batch)
            for l, value in acts.items():
                if l not in files:
                    path = os.path.join(args.out, "mlp.%d.npy" % l)
                    files[l] = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 1) + tuple(value.shape[1:]))
                files[l][at:at + len(batch), 0] = value.numpy()
    for f in files.values():
        f.flush()
    for h in handles:
        h.remove()
    print(json.dumps({"examples": n, "seconds": time.perf_counter() - start, "load_seconds": load_seconds}))


if __name__ == "__main__":
    main()
