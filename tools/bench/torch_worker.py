#!/usr/bin/python3
"""PyTorch side of the intv benchmark: eager GPT-2 with forward hooks, driven over stdin/stdout.

bench/torch.ts starts this once per benchmark session and alternates its calls with onnxruntime
runs, so both see the same machine state. One JSON object per line each way:

  -> {"cmd": "load", "weights": PATH, "input_ids": PATH, "threads": 2}
  <- {"ok": true, "torch": "1.13.0", "parallel": "...", "load_ms": 1234.5}
  -> {"cmd": "run", "scenario": "saves", "seq": 128}       (plain | saves | patches | seed5 | two_pass)
  <- {"ok": true, "ms": 812.3}                              (time of hooks + forward pass(es), in ms)
  -> {"cmd": "run", "scenario": "saves", "dump": DIR}       (also writes DIR/logits.npy and the saves)
  -> {"cmd": "generate", "prompt": 32, "new": 64, "steer": PATH or null, "layer": 6, "alpha": 4.0}
  <- {"ok": true, "ms": 9876.5, "tokens": [...]}                 (greedy loop with its own KV cache)
  -> {"cmd": "quit"}

Each scenario is the PyTorch counterpart of one intv script (bench/scripts.ts), written the way
hook-based tools (nnsight, TransformerLens, baukit) do it: register forward hooks / forward
pre-hooks, run the model, remove the hooks. Registering and removing the hooks is inside the
timed region, as it is in every call of those tools. Forward passes run under
torch.inference_mode(), PyTorch's fastest eager mode.

Run with the environment bench/torch.ts sets: OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_NUM_THREADS=<threads> (see BENCHMARKS.md: Debian's torch uses OpenMP for its own
kernels and a pthread OpenBLAS for matrix products; with OpenMP's threads spinning, the two pools
fight over the cores).
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
sys.path.insert(0, HERE)

from generate import CONFIG  # noqa: E402
from hooks import Hooks  # noqa: E402
from models import GPT2LMHeadModel  # noqa: E402


def scenario_plain(model, ids):
    return model(ids), {}


def scenario_saves(model, ids):
    """12 saves: every MLP's output (intv: `save mlp[l] = transformer.h[l].mlp.output`)."""
    saves = {}
    with Hooks() as hk:
        for l, block in enumerate(model.transformer.h):
            hk.fwd(block.mlp, lambda m, i, o, l=l: saves.__setitem__("mlp.%d" % l, o))
        logits = model(ids)
    return logits, saves


def scenario_patches(model, ids):
    """12 patches: every MLP's output scaled (intv: `transformer.h[l].mlp.output *= 0.5`)."""
    with Hooks() as hk:
        for block in model.transformer.h:
            hk.fwd(block.mlp, lambda m, i, o: o * 0.5)
        return model(ids), {}


def scenario_seed5(model, ids):
    """Seed example 5: each MLP's output becomes the mean of every ln_2 input so far."""
    cache = []
    with Hooks() as hk:
        for block in model.transformer.h:
            hk.pre(block.ln_2, lambda m, i: cache.append(i[0]))
            hk.fwd(block.mlp, lambda m, i, o: torch.stack(cache).mean(dim=0))
        return model(ids), {}


def scenario_two_pass(model, ids):
    """Seed example 3: pass 1 saves MLP 8's output, pass 2 puts it in place of MLP 2's."""
    saves = {}
    with Hooks() as hk:
        hk.fwd(model.transformer.h[8].mlp, lambda m, i, o: saves.__setitem__("first.mlp8", o))
        model(ids)
    with Hooks() as hk:
        hk.fwd(model.transformer.h[2].mlp, lambda m, i, o: saves["first.mlp8"])
        logits = model(ids)
    return logits, saves


def generate(model, prompt, new, steer, layer, alpha):
    """Greedy generation the way hook-based tools do it (nnsight's / TransformerLens' generate): the model's
    own KV cache (use_cache), a forward hook on block `layer` adding alpha * steer at the last position of
    every call (the prompt's last position at the first, the new token after), hook registered and removed
    inside the timed region."""
    with Hooks() as hk:
        if steer is not None:
            def hook(module, inputs, output):
                h = output[0].clone()
                h[:, -1, :] += alpha * steer
                return (h,) + tuple(output[1:])

            hk.fwd(model.transformer.h[layer], hook)
        ids = prompt
        past = None
        for _ in range(new):
            logits, past = model(ids if past is None else ids[:, -1:], past)
            ids = torch.cat([ids, logits[:, -1, :].argmax(-1, keepdim=True)], dim=1)
    return ids


SCENARIOS = {
    "plain": scenario_plain,
    "saves": scenario_saves,
    "patches": scenario_patches,
    "seed5": scenario_seed5,
    "two_pass": scenario_two_pass,
}


def main():
    model = None
    cached = None  # the same weights with Hugging Face's tuples and a KV cache, for "generate"
    ids = None
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies on the protocol stream
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        try:
            cmd = msg["cmd"]
            if cmd == "load":
                start = time.perf_counter()
                torch.set_num_threads(int(msg["threads"]))
                model = GPT2LMHeadModel(CONFIG)
                model.load_state_dict(torch.load(msg["weights"]))
                model.eval()
                ids = torch.from_numpy(np.load(msg["input_ids"]))
                reply = {
                    "ok": True,
                    "torch": torch.__version__,
                    "threads": torch.get_num_threads(),
                    "parallel": torch.__config__.parallel_info(),
                    "load_ms": (time.perf_counter() - start) * 1000,
                }
            elif cmd == "run":
                fn = SCENARIOS[msg["scenario"]]
                x = ids[:, : int(msg.get("seq", ids.shape[1]))].contiguous()  # the first `seq` tokens
                with torch.inference_mode():
                    start = time.perf_counter()
                    logits, saves = fn(model, x)
                    ms = (time.perf_counter() - start) * 1000
                if msg.get("dump"):
                    os.makedirs(msg["dump"], exist_ok=True)
                    np.save(os.path.join(msg["dump"], "logits.npy"), logits.numpy(), allow_pickle=False)
                    for name, t in saves.items():
                        np.save(os.path.join(msg["dump"], name + ".npy"), t.numpy(), allow_pickle=False)
                reply = {"ok": True, "ms": ms}
            elif cmd == "generate":
                if cached is None:
                    cached = GPT2LMHeadModel(dict(CONFIG, hf_tuples=True, use_cache=True))
                    cached.load_state_dict(model.state_dict())
                    cached.eval()
                steer = torch.from_numpy(np.load(msg["steer"])) if msg.get("steer") else None
                prompt = ids[:, : int(msg["prompt"])].contiguous()
                with torch.inference_mode():
                    start = time.perf_counter()
                    generated = generate(cached, prompt, int(msg["new"]), steer, int(msg.get("layer", 6)), float(msg.get("alpha", 1.0)))
                    ms = (time.perf_counter() - start) * 1000
                reply = {"ok": True, "ms": ms, "tokens": generated[0].tolist()}
            elif cmd == "quit":
                out.write(json.dumps({"ok": True}) + "\n")
                out.flush()
                return
            else:
                reply = {"ok": False, "error": "unknown command %r" % cmd}
        except Exception as e:  # reported to the driver, which stops the benchmark
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
