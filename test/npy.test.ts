// The NPY reader and writer against files written by NumPy (test/fixtures/npy, described by its
// manifest.json), hand-made malformed files, and — when /usr/bin/python3 has NumPy — NumPy
// reading what we write.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ELEM_NAMES, NpyError, allocate, decodeNpy, encodeNpy, halfToNumber, readNpy, writeNpy, type ElemName, type Tensor } from "../common/index.js";

const FIXTURES = fileURLToPath(new URL("../../test/fixtures/npy/", import.meta.url));

interface FixtureEntry {
  file: string;
  dtype: ElemName;
  descr: string;
  shape: number[];
  fortran_order: boolean;
  version: string;
  values: (number | string | boolean)[];
}

const manifest = JSON.parse(readFileSync(join(FIXTURES, "manifest.json"), "utf8")) as { files: FixtureEntry[] };

/** The tensor's elements as comparable JS values: numbers, decimal strings for 64-bit ints, booleans. */
function elements(t: Tensor): (number | string | boolean)[] {
  const out: (number | string | boolean)[] = [];
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (t.type === "float16") out.push(halfToNumber(v as number));
    else if (t.type === "bool") out.push(v === 1);
    else if (typeof v === "bigint") out.push(v.toString());
    else out.push(v);
  }
  return out;
}

function expected(entry: FixtureEntry): (number | string | boolean)[] {
  return entry.values.map((v) => {
    if (v === "nan") return NaN;
    if (v === "inf") return Infinity;
    if (v === "-inf") return -Infinity;
    // 64-bit ints are decimal strings; a plain number there has lost precision in JSON already
    // and is compared as a number.
    return v;
  });
}

describe("reading files written by NumPy", () => {
  for (const entry of manifest.files) {
    test(entry.file, async () => {
      const t = await readNpy(join(FIXTURES, entry.file));
      assert.equal(t.type, entry.dtype);
      assert.deepEqual(t.dims, entry.shape);
      const got = elements(t);
      const want = expected(entry);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) {
        const w = want[i]!;
        const g = got[i]!;
        if (typeof w === "number" && typeof g === "string") assert.equal(Number(BigInt(g)), w, `element ${i}`);
        else assert.ok(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `element ${i}: got ${String(g)}, want ${String(w)}`);
      }
    });
  }

  test("the fixtures cover every element type, scalars, empty arrays, both byte orders, Fortran order and format 2.0", () => {
    const types = new Set(manifest.files.map((f) => f.dtype));
    for (const t of ELEM_NAMES) assert.ok(types.has(t), `no fixture of ${t}`);
    assert.ok(manifest.files.some((f) => f.shape.length === 0));
    assert.ok(manifest.files.some((f) => f.shape.includes(0)));
    assert.ok(manifest.files.some((f) => f.descr.startsWith(">")));
    assert.ok(manifest.files.some((f) => f.fortran_order && f.shape.length > 2));
    assert.ok(manifest.files.some((f) => f.version === "2.0"));
  });

  test("writing what was read gives NumPy's own bytes (format 1.0, little-endian, C order)", () => {
    for (const entry of manifest.files) {
      if (entry.version !== "1.0" || entry.fortran_order || entry.descr.startsWith(">")) continue;
      const bytes = readFileSync(join(FIXTURES, entry.file));
      assert.deepEqual(Buffer.from(encodeNpy(decodeNpy(bytes, entry.file))), bytes, entry.file);
    }
  });

  test("big-endian and Fortran-order files are converted to native C order", async () => {
    const c = await readNpy(join(FIXTURES, "float32_2x3.npy"));
    const big = await readNpy(join(FIXTURES, "float32_bigendian_2x3.npy"));
    const fortran = await readNpy(join(FIXTURES, "float32_fortran_2x3.npy"));
    assert.deepEqual(big, c);
    assert.deepEqual(fortran, c);
    assert.equal(big.data.byteOffset % 4, 0);
  });
});

/** A hand-made .npy file: magic, version, header length, header (padded to 64), data. */
function npy(header: string, data: Uint8Array = new Uint8Array(), major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  const text = header.padEnd(total - prefix - 1, " ") + "\n";
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(prefix + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, prefix);
  out.set(data, prefix + headerBytes.length);
  return out;
}

describe("reading: other versions and errors", () => {
  test("format 3.0 (UTF-8 header)", () => {
    const t = decodeNpy(npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([1, 0, 255, 255]), 3));
    assert.deepEqual(t, { type: "int16", dims: [2], data: new Int16Array([1, -1]) });
  });

  test("`=` (native order) and header spacing variants", () => {
    const t = decodeNpy(npy("{\"descr\":\"=u2\",\"shape\":(1, ),\"fortran_order\":False}", new Uint8Array([7, 1])));
    assert.deepEqual(t, { type: "uint16", dims: [1], data: new Uint16Array([263]) });
  });

  test("bool bytes other than 0 and 1 read as true", () => {
    const t = decodeNpy(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array([0, 5])));
    assert.deepEqual([...t.data], [0, 1]);
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ["complex", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /^f\.npy: unsupported dtype '<c8'$/],
    ["unicode", npy("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)), /unsupported dtype '<U3'/],
    ["object", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /unsupported dtype '\|O'/],
    ["structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), /unsupported dtype \[\['a', '<f4'\]\] \(structured arrays are not supported\)/],
    ["bad magic", new TextEncoder().encode("PK\u0003\u0004 this is a zip file"), /^f\.npy: not a NumPy \.npy file/],
    ["version", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new Uint8Array(4), 9), /unsupported \.npy format version 9\.0/],
    ["truncated data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(12)), /truncated data: shape \(2, 2\) of float32 needs 16 bytes, the file has 12/],
    ["truncated header", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").subarray(0, 20), /truncated header/],
    ["header syntax", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, }"), /malformed header/],
    ["missing key", npy("{'descr': '<f4', 'shape': (2,), }", new Uint8Array(8)), /malformed header: it needs 'descr', 'fortran_order' and 'shape'/],
    ["negative dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), /'shape' is not a tuple of non-negative integers/],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, () => {
      assert.throws(() => decodeNpy(bytes, "f.npy"), (e: unknown) => e instanceof NpyError && message.test(e.message));
    });
  }

  test("a missing file", async () => {
    await assert.rejects(readNpy("/nonexistent/x.npy"), /^NpyError: \/nonexistent\/x\.npy: cannot read file \(no such file or directory\)$/);
  });
});

describe("writing", () => {
  test("header is padded to a multiple of 64 bytes and ends with a newline; data follows", () => {
    const bytes = encodeNpy({ type: "float32", dims: [3], data: new Float32Array([1, 2, 3]) });
    assert.equal(bytes.length, 128 + 12);
    assert.equal(new TextDecoder().decode(bytes.subarray(10, 128)).trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
    assert.equal(bytes[127], 0x0a);
    assert.deepEqual(new Float32Array(bytes.slice(128).buffer), new Float32Array([1, 2, 3]));
  });

  test("a header too long for format 1.0 is written as 2.0", () => {
    const dims = new Array<number>(30000).fill(1);
    const t: Tensor = { type: "uint8", dims, data: new Uint8Array([42]) };
    const bytes = encodeNpy(t);
    assert.equal(bytes[6], 2);
    assert.deepEqual(decodeNpy(bytes), t);
  });

  test("data length must match the shape", () => {
    assert.throws(() => encodeNpy({ type: "float32", dims: [2, 2], data: new Float32Array(3) }), /needs 4 elements, the data has 3/);
  });

  test("round trip of every element type, scalars and empty shapes", () => {
    for (const type of ELEM_NAMES) {
      for (const dims of [[], [0], [2, 3], [3, 0, 2]]) {
        const t = sample(type, dims);
        assert.deepEqual(decodeNpy(encodeNpy(t)), t, `${type}[${dims.join(", ")}]`);
      }
    }
  });

  test("writeNpy writes atomically and leaves no temporary file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "intv-npy-"));
    try {
      const path = join(dir, "a.npy");
      writeFileSync(path, "old");
      await writeNpy(path, sample("int64", [2]));
      assert.deepEqual(await readNpy(path), sample("int64", [2]));
      await assert.rejects(writeNpy(join(dir, "missing", "b.npy"), sample("int8", [1])), /b\.npy: cannot write file/);
      const { readdirSync } = await import("node:fs");
      assert.deepEqual(readdirSync(dir), ["a.npy"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A tensor with varied values of every kind (including extremes) for round trips. */
function sample(type: ElemName, dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = allocate(type, n);
  for (let i = 0; i < n; i++) {
    const k = i + 1;
    switch (type) {
      case "int64": (data as BigInt64Array)[i] = i % 2 ? -(2n ** 62n) - BigInt(k) : 2n ** 62n + BigInt(k); break;
      case "uint64": (data as BigUint64Array)[i] = 2n ** 63n + BigInt(k); break;
      case "bool": (data as Uint8Array)[i] = k % 2; break;
      case "float16": (data as Uint16Array)[i] = 0x3c00 + k; break;
      default: (data as Float64Array)[i] = type.startsWith("float") ? k * -1.5 : type.startsWith("uint") ? k * 3 : -k * 3;
    }
  }
  return { type, dims, data } as Tensor;
}

// Dev only: NumPy reads what we write. Skipped when /usr/bin/python3 or NumPy is missing.
const PYTHON = "/usr/bin/python3";
const hasNumpy = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" }).status === 0;

test("NumPy reads what we write", { skip: hasNumpy ? false : "needs /usr/bin/python3 with numpy" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "intv-npy-"));
  try {
    const tensors: Record<string, Tensor> = {};
    for (const type of ELEM_NAMES) {
      tensors[`${type}_2x3`] = sample(type, [2, 3]);
      tensors[`${type}_scalar`] = sample(type, []);
      tensors[`${type}_0x2`] = sample(type, [0, 2]);
    }
    for (const [name, t] of Object.entries(tensors)) await writeNpy(join(dir, `${name}.npy`), t);
    const script = `
import json, os, sys
import numpy as np
out = {}
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    a = np.load(os.path.join(d, f), allow_pickle=False)
    vals = [str(v) if a.dtype.kind in "iu" and a.dtype.itemsize == 8 else (bool(v) if a.dtype == np.bool_ else float(v)) for v in a.reshape(-1).tolist()]
    out[f[:-4]] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": vals}
print(json.dumps(out))
`;
    const run = spawnSync(PYTHON, ["-c", script, dir], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as Record<string, { dtype: string; shape: number[]; values: unknown[] }>;
    for (const [name, t] of Object.entries(tensors)) {
      const np = seen[name]!;
      assert.equal(np.dtype === "bool" ? "bool" : np.dtype, t.type, name);
      assert.deepEqual(np.shape, t.dims, name);
      assert.deepEqual(np.values, elements(t), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
