"""Read what `intv run --inputs` wrote, without loading it: both layouts, with NumPy's mmap.

    python3 examples/dataset/read_acts.py acts mlp.3        # stacked: acts/mlp.3.npy
    python3 examples/dataset/read_acts.py ragged mlp.3      # ragged: ragged/mlp.3.npy + .offsets.npy

Prints the file's layout and shape, then line 1's activations' shape and mean (one JSON line).
"""

import json
import os
import sys

import numpy as np


def line(folder, stem, i):
    """Line i's result: entry i of a stacked file, or its rows of a ragged one."""
    data = np.load(os.path.join(folder, f"{stem}.npy"), mmap_mode="r")
    offsets_file = os.path.join(folder, f"{stem}.offsets.npy")
    if os.path.exists(offsets_file):
        offsets = np.load(offsets_file)  # int64 [lines + 1]
        return "ragged", data.shape, len(offsets) - 1, data[offsets[i]:offsets[i + 1]]
    return "stacked", data.shape, data.shape[0], data[i]


def main():
    folder, stem = sys.argv[1], sys.argv[2]
    layout, shape, lines, first = line(folder, stem, 1)
    print(json.dumps({"layout": layout, "shape": list(shape), "lines": int(lines),
                      "line1_shape": list(first.shape), "line1_mean": float(np.mean(first))}))


if __name__ == "__main__":
    main()
