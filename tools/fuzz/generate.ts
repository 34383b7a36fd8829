// Inputs for the script fuzzer (test/fuzz.test.ts): a seeded PRNG, the language's vocabulary,
// random token streams, random statements from a small grammar, and mutations of the example
// scripts. Everything here is a pure function of the seed, so a failure is reproduced by its
// seed and case number alone.

/** mulberry32: small, fast, good enough for fuzzing, and the same on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// --- vocabulary ---------------------------------------------------------------------------------

export const KEYWORDS = ["let", "save", "for", "in", "param", "def", "import", "as", "pass", "true", "false"];
export const OPERATORS = [
  "+", "-", "*", "/", "@", "**", "<", "<=", ">", ">=", "==", "!=", "=", "+=", "-=", "*=", "/=",
  "..", ".", ",", ":", ";", "?", "(", ")", "[", "]", "{", "}", "...",
];
export const BUILTINS = [
  "zeros_like", "ones_like", "full_like", "mean", "sum", "max", "min", "relu", "gelu", "tanh", "sigmoid",
  "exp", "log", "sqrt", "abs", "softmax", "norm", "stack", "concat", "unbind", "reshape", "transpose",
  "where", "cast", "clamp", "load", "len", "tensor", "argmax", "argmin", "topk", "gather", "arange", "log_softmax",
  "logsumexp", "layer_norm", "rms_norm", "einsum", "one_hot", "cumsum", "tril", "triu", "shape",
];
export const NAMES = [
  "transformer", "h", "mlp", "attn", "ln_1", "ln_2", "ln_f", "c_fc", "c_proj", "c_attn", "wte", "wpe", "lm_head",
  "output", "input", "outputs", "inputs", "weight", "bias", "shape", "grad", "calls", "model", "x", "y", "l", "i", "cache", "xs",
  "steer", "alpha", "first", "second", "clean", "corrupt", "axis", "keepdims", "input_ids", "layer1", "relu",
  "relu_1", "fc", "stem", "float32", "float16", "int64", "bool", "bfloat16", "batch", "seq",
];
export const NUMBERS = [
  "0", "1", "2", "-1", "3", "8", "11", "12", "13", "32", "-12", "0.5", "-0.5", "1e-3", "4.0", "1e308", "-1e308",
  "1e999", "99999999999999999999", "-99999999999999999999", "9007199254740993", "1.", ".5", "0x10", "007",
  "1e", "1e+", "3.14e+10", "-0", "2147483648", "4294967296",
];
export const STRINGS = [
  '"steer.npy"', '"float16"', '"float32"', '""', '"input_ids"', '"/transformer/h.0/Add_output_0"',
  '"../../etc/passwd"', '"/etc/passwd"', '"missing.npy"', '"gpt2.onnx"', '"a\\qb"', '"\\u{1F600}"', '"\\u{110000}"',
  '"unterminated', "'single'", '"tab\\t"', '"nul\\0"',
];
const SPACE = [" ", " ", " ", "", "\n", "\t", "  ", "\r\n", "\r", "# comment\n", "\\\n"];
const WEIRD = [
  "\0", "\uD800", "\uDFFF", "\uFFFD", "\u00e9", "\u200B", "\uFEFF", "\u2028", "$", "`", "\\", "'", "\u0007",
  "\u{1F600}", "λ", "é", "\x7F", "\u00A0",
];

const VOCAB: readonly (readonly string[])[] = [KEYWORDS, OPERATORS, OPERATORS, BUILTINS, NAMES, NAMES, NUMBERS, STRINGS, WEIRD];

export function randomToken(r: Rand): string {
  return r.pick(r.pick(VOCAB));
}

/** A stream of vocabulary tokens with random spacing (tokens may run together). */
export function tokenStream(r: Rand): string {
  const n = r.range(1, 80);
  let s = "";
  for (let i = 0; i < n; i++) s += randomToken(r) + r.pick(SPACE);
  return s;
}

// --- random statements from a small grammar: likely to get past the parser ----------------------

const REFS = [
  "transformer.h[0].output", "transformer.h[1].mlp.output", "transformer.h[2].ln_2.input", "transformer.h[-1].output",
  "transformer.h[3].attn.output", "transformer.h[l].mlp.output", "transformer.h[l].ln_2.input", "model.output",
  "model.inputs[\"input_ids\"]", "transformer.h[4].mlp.c_fc.weight", "transformer.h[0].attn.outputs[1]",
  "transformer.h[2].mlp.calls[0]", "transformer.wte.weight", "transformer.ln_f.output", "transformer.h[12].output",
  "tensor(\"/transformer/h.0/Add_output_0\")", "transformer.h[0].mlp.output[:, -1, :]", "transformer.h[0].output[..., 0:10]",
  "transformer.h[5].output[0]", "transformer.h[0].mlp.dropout.output", "transformer.h",
];

function expr(r: Rand, depth: number): string {
  if (depth > 3 || r.chance(0.3)) {
    return r.pick([r.pick(REFS), r.pick(REFS), r.pick(NUMBERS), r.pick(["x", "y", "l", "cache", "xs", "steer", "alpha", "first.s", "clean.s"])]);
  }
  switch (r.int(7)) {
    case 0:
      return `${expr(r, depth + 1)} ${r.pick(["+", "-", "*", "/", "@", "**", "<", ">", "=="])} ${expr(r, depth + 1)}`;
    case 1:
      return `-${expr(r, depth + 1)}`;
    case 2: {
      const f = r.pick(BUILTINS);
      const args = Array.from({ length: r.range(0, 3) }, () => expr(r, depth + 1));
      if (r.chance(0.4)) args.push(`${r.pick(["axis", "keepdims", "bogus"])}=${r.pick(["-1", "0", "1", "true", "99"])}`);
      return `${f}(${args.join(", ")})`;
    }
    case 3:
      return `[${Array.from({ length: r.range(0, 4) }, () => expr(r, depth + 1)).join(", ")}]`;
    case 4:
      return `(${expr(r, depth + 1)})`;
    case 5:
      return `${expr(r, depth + 1)}[${r.pick(["0", "-1", ":", "0:l", "l", "..., 0", ":, -1, :", "1:3:2", "99"])}]`;
    default:
      return `f(${expr(r, depth + 1)})`;
  }
}

function statement(r: Rand, depth: number): string {
  switch (r.int(depth > 1 ? 6 : 10)) {
    case 0:
      return `let ${r.pick(["x", "y", "cache", "xs"])} = ${expr(r, 0)}`;
    case 1:
      return `save ${r.pick(["s", "t", "x"])}${r.chance(0.3) ? "[l]" : ""} = ${expr(r, 0)}`;
    case 2:
      return `${r.pick(REFS)} ${r.pick(["=", "+=", "-=", "*=", "/="])} ${expr(r, 0)}`;
    case 3:
      return `${r.pick(["x", "cache"])} = ${expr(r, 0)}`;
    case 4:
      return `param ${r.pick(["steer", "alpha", "p"])}: ${r.pick(["float32", "int64", "float16", "bogus"])}${r.pick(["", "[32]", "[batch, seq, 32]", "[?]", "[]", "[1e3]"])}${r.chance(0.5) ? ` = ${r.pick(["4.0", "1", "load(\"steer.npy\")", "x"])}` : ""}`;
    case 5:
      return `def f(${r.pick(["x", "xs", "x, y", ""])}) = ${expr(r, 0)}`;
    case 6:
    case 7:
      return `for l in ${r.pick(["0..12", "0..len(transformer.h)", "[0, 3, 7]", "0..3", "cache", "3..0", "0..1e3"])} {\n${block(r, depth + 1)}\n}`;
    case 8:
      return `pass ${r.pick(["first", "second", "clean", "corrupt"])}${r.chance(0.3) ? "(input_ids = x)" : ""} {\n${block(r, depth + 1)}\n}`;
    default:
      return `import ${r.pick(['"gpt2.onnx"', '"missing.onnx"', '"steer.npy"'])} as f`;
  }
}

function block(r: Rand, depth: number): string {
  return Array.from({ length: r.range(1, 4) }, () => statement(r, depth)).join(r.pick(["\n", "; ", "\n\n"]));
}

export function grammarScript(r: Rand): string {
  return block(r, 0);
}

// --- mutations of example scripts --------------------------------------------------------------

/** Tokens of a script, with the text between them kept, so joining gives the script back. */
export function splitTokens(source: string): string[] {
  return source.match(/\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"?|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|\.\.\.?|\*\*|[+\-*/<>=!]=|[\s\S]/g) ?? [];
}

const isSpace = (t: string): boolean => /^\s*$/.test(t) || t.startsWith("#");

function deepNesting(r: Rand): string {
  const n = r.pick([300, 1000, 10000]);
  const open = r.pick(["(", "[", "{", "-", "f(", "[0, "]);
  const close = { "(": ")", "[": "]", "{": "}", "-": "", "f(": ")", "[0, ": "]" }[open]!;
  return open.repeat(n) + (r.chance(0.5) ? `1${close.repeat(n)}` : "");
}

const MUTATIONS = [
  "delete", "duplicate", "swap", "replace", "insert", "truncate", "hugeNumber", "nesting", "longIdentifier",
  "bytes", "nul", "crlf", "repeat", "chain",
] as const;
export type Mutation = (typeof MUTATIONS)[number];

export function mutate(r: Rand, source: string, mutation: Mutation): string {
  const toks = splitTokens(source);
  const real = toks.map((t, i) => (isSpace(t) ? -1 : i)).filter((i) => i >= 0);
  const at = (): number => (real.length > 0 ? r.pick(real) : 0);
  switch (mutation) {
    case "delete":
      toks.splice(at(), 1);
      break;
    case "duplicate": {
      const i = at();
      toks.splice(i, 0, toks[i] ?? "");
      break;
    }
    case "swap": {
      const i = at();
      const j = at();
      [toks[i], toks[j]] = [toks[j] ?? "", toks[i] ?? ""];
      break;
    }
    case "replace":
      toks[at()] = randomToken(r);
      break;
    case "insert":
      toks.splice(at(), 0, randomToken(r), r.pick(SPACE));
      break;
    case "truncate":
      return source.slice(0, r.int(source.length + 1));
    case "hugeNumber": {
      const nums = real.filter((i) => /^\d/.test(toks[i]!));
      const big = r.pick(["1e308", "99999999999999999999", "1e999", "-1e308", "9007199254740993", "4294967296", "1e-400"]);
      toks[nums.length > 0 ? r.pick(nums) : at()] = big;
      break;
    }
    case "nesting":
      toks.splice(at(), 0, deepNesting(r));
      break;
    case "longIdentifier": {
      const names = real.filter((i) => /^[A-Za-z_]/.test(toks[i]!));
      toks[names.length > 0 ? r.pick(names) : at()] = "a".repeat(r.pick([1000, 100000, 1000000]));
      break;
    }
    case "bytes": {
      // Non-UTF-8 bytes, as a reader would decode them: replacement characters (TextDecoder)
      // or Latin-1 (each byte one character).
      const bytes = Buffer.from(source, "utf8");
      const at = r.int(bytes.length + 1);
      const junk = Buffer.from(Array.from({ length: r.range(1, 8) }, () => r.range(0x80, 0xff)));
      const mixed = Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
      return r.chance(0.5) ? new TextDecoder("utf-8").decode(mixed) : mixed.toString("latin1");
    }
    case "nul": {
      const i = r.int(source.length + 1);
      return source.slice(0, i) + r.pick(["\0", "\0\0\0", "\uD800", "\uFEFF"]) + source.slice(i);
    }
    case "crlf":
      return source.replace(/\n/g, r.pick(["\r\n", "\r", "\n\n", " ; "]));
    case "repeat":
      return source.repeat(r.range(2, 50));
    case "chain": {
      // A long operator chain: deep trees without brackets.
      const op = r.pick([" + 1", " * x", "**1", "[0]", ".h", "(1)"]);
      toks.splice(at() + 1, 0, op.repeat(r.pick([500, 2000, 20000])));
      break;
    }
    default: {
      const never: never = mutation;
      return never;
    }
  }
  return toks.join("");
}

// --- the cases ---------------------------------------------------------------------------------

export interface FuzzCase {
  /** Index in the run: with the seed, all it takes to reproduce the case. */
  id: number;
  kind: string;
  source: string;
}

/** Fixed cases run first in every run: the hostile inputs the issue names. */
export function specialCases(): { kind: string; source: string }[] {
  const X = "transformer.h[0].output";
  return [
    { kind: "empty", source: "" },
    { kind: "10000 (", source: `save x = ${"(".repeat(10000)}` },
    { kind: "10000 ( closed", source: `save x = ${"(".repeat(10000)}${X}${")".repeat(10000)}` },
    { kind: "10000 [", source: `let x = ${"[".repeat(10000)}` },
    { kind: "10000 [ closed", source: `let x = ${"[".repeat(10000)}1${"]".repeat(10000)}` },
    { kind: "10000 {", source: "for l in 0..1 {".repeat(10000) },
    { kind: "10000 nested for", source: `${"for l in 0..1 {\n".repeat(10000)}save x = ${X}\n${"}\n".repeat(10000)}` },
    { kind: "199 ( (at the limit with the index)", source: `save x = ${"(".repeat(199)}${X}${")".repeat(199)}` },
    { kind: "stray punctuation lines", source: ") ] } = = + , ; . ..\n".repeat(5000) },
    { kind: "1 MiB + 1", source: `${"#".repeat(1 << 20)}\n` },
    { kind: "10000 unary minus", source: `save x = ${"-".repeat(10000)}${X}` },
    { kind: "10000 **", source: `save x = ${X}${" ** 1".repeat(10000)}` },
    { kind: "20000 +", source: `save x = ${X}${" + 1".repeat(20000)}` },
    { kind: "20000 [0]", source: `let l = [1]\nsave x = l${"[0]".repeat(20000)}` },
    { kind: "20000 calls", source: `save x = f${"(1)".repeat(20000)}` },
    { kind: "huge numbers", source: `save x = ${X} * 1e308 + 99999999999999999999 - 1e999\nsave y = ${X}[99999999999999999999]\nsave z = ${X}[:, 0:1e308]` },
    { kind: "huge range", source: `for l in 0..99999999999999999999 { save x[l] = ${X} }` },
    { kind: "huge range 1e308", source: "for l in 0..1e308 { let y = 1 }" },
    { kind: "huge negative range", source: "for l in -1e308..1e308 { let y = 1 }" },
    { kind: "huge param dims", source: `param p: float32[99999999999999999999]\nsave x = ${X} + p` },
    { kind: "huge param default", source: "param p: float32[100000, 100000, 100000] = 1\nsave x = p" },
    { kind: "huge param default 1e9", source: "param p: float32[1000000000] = 1.5\nsave x = p" },
    { kind: "huge reshape", source: `save x = reshape(${X}, [99999999999999999999, -1])` },
    { kind: "huge save index", source: `save x[99999999999999999999] = ${X}` },
    { kind: "huge module index", source: "save x = transformer.h[99999999999999999999].output" },
    { kind: "long identifier", source: `save ${"a".repeat(1_000_000)} = ${X}` },
    { kind: "long string", source: `let s = load("${"a".repeat(100_000)}.npy")` },
    { kind: "NUL", source: `save x\0 = ${X}` },
    { kind: "NUL only", source: "\0".repeat(1000) },
    { kind: "lone surrogates", source: `save x = \uD800 ${X}\uDFFF` },
    { kind: "lone surrogate in a comment", source: `save x = ${X} # \uD800\n` },
    { kind: "lone surrogate in a string", source: `save x = cast(${X}, "\uDC00")` },
    { kind: "BOM", source: `\uFEFFsave x = ${X}` },
    { kind: "replacement chars", source: `save \uFFFD = ${X}\uFFFD` },
    { kind: "latin1 bytes", source: Buffer.from([0x73, 0x61, 0x76, 0x65, 0x20, 0xff, 0xfe, 0x80, 0x3d, 0x31]).toString("latin1") },
    { kind: "CR line ends", source: `let a = ${X}\rsave b = a\r` },
    { kind: "recursive def", source: `def f(x) = f(x)\nsave x = f(${X})` },
    { kind: "mutual recursion", source: "def f(x) = g(x)\ndef g(x) = f(x)\nsave x = f(1)" },
    {
      kind: "exponential def (numbers)",
      source: `def f0(x) = x\n${Array.from({ length: 60 }, (_, i) => `def f${i + 1}(x) = f${i}(x) + f${i}(x)`).join("\n")}\nlet y = f60(1)`,
    },
    {
      kind: "exponential def (nodes)",
      source: `def f0(x) = x\n${Array.from({ length: 60 }, (_, i) => `def f${i + 1}(x) = f${i}(x) + f${i}(x)`).join("\n")}\nsave y = f60(${X})`,
    },
    { kind: "list doubling", source: `let a = [1]\n${"a = a + a\n".repeat(64)}save n = len(a)` },
    { kind: "list doubling (tensors)", source: `let a = [${X}]\n${"a = a + a\n".repeat(64)}save s = stack(a)` },
    { kind: "many passes", source: Array.from({ length: 3000 }, (_, i) => `pass p${i} { }`).join("\n") },
    { kind: "many passes with saves", source: Array.from({ length: 3000 }, (_, i) => `pass p${i} { save s = ${X} }`).join("\n") },
    { kind: "unbind huge", source: "param p: float32[100000000]\nlet xs = unbind(p)\nsave s = xs[0]" },
    { kind: "nested loops", source: "for i in 0..1000 { for j in 0..1000 { let y = 1 } }" },
    { kind: "long loop body", source: `for i in 0..100000 { let y = ${X} * 2 }` },
    { kind: "load outside", source: 'let v = load("/etc/passwd")\nlet w = load("../../../../etc/hostname")' },
    { kind: "import outside", source: 'import "/etc/passwd" as f\nimport "../test/fixtures/cnn/model.onnx" as g\nsave x = g(1)' },
    { kind: "import a non-model", source: 'import "steer.npy" as f\nsave x = f(transformer.h[0].output)' },
    { kind: "import the model itself", source: 'import "gpt2.onnx" as g\nsave x = g(model.inputs["input_ids"])' },
    { kind: "import in a loop", source: 'for l in 0..1000 { import "gpt2.onnx" as f }' },
    { kind: "param in a loop", source: "for l in [0, 3, 7] { param alpha: int64[?] }" },
    { kind: "errors in a long loop", source: "for l in 0..1000 { for k in 0..1000 { cache = nope; save t[l] = relu() } }" },
    { kind: "long unknown name in a loop", source: `for l in 0..12 { save s[l] = transformer.${"a".repeat(1_000_000)}.output }` },
  ];
}

/** Case `id` of a run with `seed`: specials first, then a mix of streams, grammar and mutations. */
export function fuzzCase(seed: number, id: number, examples: readonly { name: string; source: string }[]): FuzzCase {
  const specials = specialCases();
  if (id < specials.length) return { id, ...specials[id]! };
  const r = new Rand((seed * 1_000_003 + id) >>> 0);
  const roll = r.next();
  if (roll < 0.2) return { id, kind: "token stream", source: tokenStream(r) };
  if (roll < 0.45) return { id, kind: "grammar", source: grammarScript(r) };
  const ex = r.pick(examples);
  let source = ex.source;
  const kinds: Mutation[] = [];
  const n = r.chance(0.7) ? 1 : r.range(2, 4);
  for (let i = 0; i < n; i++) {
    // The expensive mutations (huge inputs) are rarer.
    const m = r.chance(0.85) ? r.pick(["delete", "duplicate", "swap", "replace", "insert", "truncate", "hugeNumber", "bytes", "nul", "crlf"] as const) : r.pick(MUTATIONS);
    kinds.push(m);
    source = mutate(r, source, m);
  }
  return { id, kind: `${ex.name}: ${kinds.join(", ")}`, source };
}
