// Reading the files a script names (`load("v.npy")`, `import "m.onnx" as f`) before it runs.
// Paths are relative to the script and must stay inside its folder, or inside a folder the
// caller allowed (`--allow-path DIR`): a script downloaded with a model cannot read elsewhere.

import { realpath, readFile } from "node:fs/promises";
import path from "node:path";
import type { Expr, Script, Stmt } from "../grammar/index.js";
import { decodeNpy, diagnostic, type Diagnostic, type Span } from "../common/index.js";
import { readModelFile } from "./onnx/index.js";
import type { TensorProto } from "./onnx/index.js";
import type { LoadedFile } from "./resolve/index.js";
import { elemTypeCode } from "./onnx/index.js";

interface FileRef {
  path: string;
  span: Span;
  kind: "npy" | "onnx";
}

export function fileReferences(script: Script): FileRef[] {
  const out: FileRef[] = [];
  const visitExpr = (e: Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case "Call":
        if (e.callee.kind === "Name" && e.callee.name === "load" && e.args[0]?.kind === "String") out.push({ path: e.args[0].value, span: e.args[0].span, kind: "npy" });
        visitExpr(e.callee);
        e.args.forEach(visitExpr);
        e.kwargs.forEach((k) => visitExpr(k.value));
        return;
      case "Member":
        visitExpr(e.object);
        return;
      case "Index":
        visitExpr(e.object);
        for (const it of e.items) {
          if (it.kind === "Expr") visitExpr(it.expr);
          else if (it.kind === "Slice") [it.start, it.stop, it.step].forEach(visitExpr);
        }
        return;
      case "Unary":
        visitExpr(e.operand);
        return;
      case "Binary":
        visitExpr(e.left);
        visitExpr(e.right);
        return;
      case "List":
        e.elements.forEach(visitExpr);
        return;
      default:
        return;
    }
  };
  const visit = (s: Stmt): void => {
    switch (s.kind) {
      case "Import":
        out.push({ path: s.path, span: s.pathSpan, kind: "onnx" });
        return;
      case "Let":
      case "Save":
        visitExpr(s.value);
        return;
      case "Assign":
        visitExpr(s.target);
        visitExpr(s.value);
        return;
      case "For":
        if (s.iterable.kind === "Expr") visitExpr(s.iterable.expr);
        s.body.forEach(visit);
        return;
      case "Param":
        visitExpr(s.default);
        return;
      case "Def":
        visitExpr(s.body);
        return;
      case "Pass":
        s.overrides.forEach((o) => visitExpr(o.value));
        s.body.forEach(visit);
        return;
    }
  };
  script.statements.forEach(visit);
  return out;
}

async function confined(scriptDir: string, rel: string, allow: string[]): Promise<string | { error: string; help: string }> {
  const full = path.resolve(scriptDir, rel);
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    return { error: `\`${rel}\` does not exist (looked for ${full})`, help: "paths in `load` and `import` are relative to the script's folder" };
  }
  const roots = [scriptDir, ...allow];
  for (const root of roots) {
    let r: string;
    try {
      r = await realpath(root);
    } catch {
      continue;
    }
    if (real === r || real.startsWith(r + path.sep)) return real;
  }
  return { error: `\`${rel}\` is outside the script's folder`, help: "scripts read only files inside their own folder; allow another folder with `--allow-path DIR`" };
}

export async function readScriptFiles(script: Script, scriptPath: string, allow: string[], diagnostics: Diagnostic[]): Promise<Map<string, LoadedFile>> {
  const files = new Map<string, LoadedFile>();
  const dir = path.dirname(path.resolve(scriptPath));
  for (const ref of fileReferences(script)) {
    if (files.has(ref.path)) continue;
    const where = await confined(dir, ref.path, allow);
    if (typeof where !== "string") {
      diagnostics.push(diagnostic("E0402", where.error, { span: ref.span, help: where.help }));
      files.set(ref.path, { kind: "error" });
      continue;
    }
    try {
      if (ref.kind === "onnx") files.set(ref.path, { kind: "onnx", model: (await readModelFile(where)).model });
      else files.set(ref.path, { kind: "npy", tensor: npyToTensor(await readFile(where), ref.path) });
    } catch (e) {
      diagnostics.push(diagnostic("E0402", `cannot read \`${ref.path}\`: ${(e as Error).message}`, { span: ref.span }));
      files.set(ref.path, { kind: "error" });
    }
  }
  return files;
}

function npyToTensor(bytes: Uint8Array, name: string): TensorProto {
  const t = decodeNpy(bytes, name);
  const code = elemTypeCode(t.type);
  if (code === undefined) throw new Error(`unsupported element type ${t.type}`);
  const data = t.data as unknown as { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { dims: t.dims.map((d) => BigInt(d)), data_type: code, raw_data: new Uint8Array(raw) };
}
