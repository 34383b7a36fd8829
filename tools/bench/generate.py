#!/usr/bin/python3
"""Generate the benchmark model: a GPT-2-small-shaped model with random weights.

Run from the repository root with Debian's Python (python3-torch 1.13, python3-onnx):

    /usr/bin/python3 tools/bench/generate.py

It writes, into bench/cache/ (ignored by git; about 1.3 GB in all):
  gpt2-small.onnx   TorchScript export, opset 14, input input_ids int64[batch, seq], output logits
  gpt2-small-kv.onnx  the same weights with a KV cache (for `intv generate`, bench/generate.ts): inputs
                    input_ids and past_key_values.N.key/value float32[batch, 12, past, 64], outputs
                    logits and present.N.key/value, Hugging Face Optimum's names, dynamic axes
  gpt2-small.pt     the same weights as a PyTorch state dict (for tools/bench/torch_worker.py)
  input_ids.npy     int64[1, 128], the benchmark's input
  meta.json         config, seed, torch version, file sizes

The model is tools/fixtures/models.py's GPT2LMHeadModel (Hugging Face module names) with
GPT-2 small's shape: 12 layers, width 768, 12 heads, vocabulary 50257, 1024 positions, and an
untied lm_head (so the file is about 650 MB, like GPT-2 small with its output embedding stored).
Weights are random (fixed seeds), so nothing is downloaded.

`--kv-only` writes only gpt2-small-kv.onnx (and updates meta.json), for a cache made before it existed.
"""

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

from models import GPT2LMHeadModel, init_gpt2  # noqa: E402

CONFIG = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_head=12, n_layer=12)
OPSET = 14
SEQ = 128
CACHE = os.path.join(ROOT, "bench", "cache")


def build():
    torch.manual_seed(0)
    model = GPT2LMHeadModel(CONFIG)
    init_gpt2(model, torch.Generator().manual_seed(1))
    return model.eval()


def export_kv(model):
    """The model with Hugging Face's tuples and a KV cache (the same weights), exported with dynamic axes."""
    kv = GPT2LMHeadModel(dict(CONFIG, hf_tuples=True, use_cache=True))
    kv.load_state_dict(model.state_dict())
    kv.eval()
    heads, head_dim, layers = CONFIG["n_head"], CONFIG["n_embd"] // CONFIG["n_head"], CONFIG["n_layer"]
    ids = torch.zeros(1, 4, dtype=torch.long)
    past = tuple((torch.zeros(1, heads, 3, head_dim), torch.zeros(1, heads, 3, head_dim)) for _ in range(layers))
    pasts = ["past_key_values.%d.%s" % (l, k) for l in range(layers) for k in ("key", "value")]
    presents = ["present.%d.%s" % (l, k) for l in range(layers) for k in ("key", "value")]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    axes.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in pasts})
    axes.update({n: {0: "batch_size", 2: "total_sequence_length"} for n in presents})
    path = os.path.join(CACHE, "gpt2-small-kv.onnx")
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(
            kv, (ids, past), tmp, export_params=True, opset_version=OPSET, do_constant_folding=True,
            input_names=["input_ids"] + pasts, output_names=["logits"] + presents, dynamic_axes=axes,
        )
    os.replace(tmp, path)
    return os.path.getsize(path)


def main():
    os.makedirs(CACHE, exist_ok=True)
    torch.set_num_threads(2)
    start = time.time()
    model = build()
    if "--kv-only" in sys.argv[1:]:
        with open(os.path.join(CACHE, "meta.json")) as f:
            meta = json.load(f)
        meta["onnx_kv_bytes"] = export_kv(model)
        with open(os.path.join(CACHE, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
            f.write("\n")
        print(json.dumps(meta))
        return
    ids = torch.randint(0, CONFIG["vocab_size"], (1, SEQ), generator=torch.Generator().manual_seed(3))
    np.save(os.path.join(CACHE, "input_ids.npy"), ids.numpy().astype(np.int64), allow_pickle=False)
    torch.save(model.state_dict(), os.path.join(CACHE, "gpt2-small.pt"))
    onnx_path = os.path.join(CACHE, "gpt2-small.onnx")
    tmp = onnx_path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids,),
            tmp,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            input_names=["input_ids"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
        )
    os.replace(tmp, onnx_path)
    kv_bytes = export_kv(model)
    meta = {
        "config": CONFIG,
        "opset": OPSET,
        "seq": SEQ,
        "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "onnx_bytes": os.path.getsize(onnx_path),
        "onnx_kv_bytes": kv_bytes,
        "state_dict_bytes": os.path.getsize(os.path.join(CACHE, "gpt2-small.pt")),
        "seconds": round(time.time() - start, 1),
    }
    with open(os.path.join(CACHE, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
