// `intv inspect`: the module tree recovered from a model, like `print(model)` in PyTorch.

import type { Command } from "../command.js";
import { UsageError } from "../args.js";
import { CliError, EXIT } from "../output.js";
import { suggest } from "../../common/index.js";

export const inspectCommand: Command = {
  name: "inspect",
  summary: "print the module tree of a model, with ports, types and execution order",
  usage: ["intv inspect MODEL.onnx [--json] [--depth N]", "intv inspect MODEL.onnx --tensors [PATH] [--all] [--json]"],
  description: "One module a line, indented like PyTorch's print(model): its input and output types and shapes, its parameters, and #rank, its place in execution order. Modules that exist but left no nodes in the exported graph (dropout, folded BatchNorm) say so.\n\nWith --tensors, the tensors inside each module (of PATH and the modules in it, such as transformer.h[3].attn): the name `tensor(\"NAME\")` reads and patches, the operator that computes it, its type and shape. Shape plumbing and constants are listed with --all.",
  positionals: [{ name: "MODEL.onnx" }, { name: "PATH", optional: true, description: "with --tensors: the module whose tensors to list (all modules when absent)" }],
  options: [
    { name: "json", description: "print the tree (or the tensors) as JSON" },
    { name: "depth", value: "N", description: "show N levels below the root" },
    { name: "tensors", description: "list the tensors inside each module (of PATH)" },
    { name: "all", description: "with --tensors: also shape plumbing and constants" },
  ],
  async run(args, io) {
    // Loaded here, so that `intv --help` and other commands do not pay for the compiler; and the
    // model half of it only (compiler/model.ts), without the script parser.
    const { formatTree, formatTensors, moduleTensors, moduleToJson, readModelFile, prepareModel } = await import("../../compiler/model.js");
    const file = args.positionals[0]!;
    const path = args.positionals[1];
    const tensors = args.flag("tensors");
    if (path !== undefined && !tensors) throw new UsageError(`a module path (\`${path}\`) goes with --tensors`);
    if (args.flag("all") && !tensors) throw new UsageError("--all goes with --tensors");
    const depthText = args.string("depth");
    const depth = depthText === undefined ? Infinity : Number(depthText);
    if (depthText !== undefined && (!/^\d+$/.test(depthText) || !Number.isSafeInteger(depth))) {
      throw new UsageError(`--depth takes a whole number, not \`${depthText}\``);
    }
    let tree;
    try {
      const { model } = await readModelFile(file);
      tree = prepareModel(model).tree;
    } catch (e) {
      throw new CliError((e as Error).message.startsWith(file) ? (e as Error).message : `${file}: ${(e as Error).message}`);
    }
    if (tensors) {
      const key = modulePathKey(path ?? "");
      const from = tree.get(key) ?? (key.startsWith("model.") ? tree.get(key.slice("model.".length)) : undefined);
      if (!from) {
        const hint = suggest(key, tree.all().map((m) => m.path));
        throw new CliError(`${file} has no module \`${path}\`${hint ? `; did you mean \`${tree.get(hint)?.displayPath ?? hint}\`?` : ""}`);
      }
      const list = moduleTensors(tree, from, args.flag("all"));
      io.stdout.write(args.flag("json") ? `${JSON.stringify(list, null, 2)}\n` : `${formatTensors(list)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(args.flag("json") ? `${JSON.stringify(moduleToJson(tree.root, depth), null, 2)}\n` : `${formatTree(tree, depth)}\n`);
    return EXIT.ok;
  },
};

/** `transformer.h[3].attn`, `transformer.h.3.attn` or `model.lm_head` as the tree's dotted path. */
export function modulePathKey(path: string): string {
  const dotted = path.replace(/\[\s*"((?:[^"\\]|\\.)*)"\s*\]/g, (_, name: string) => `.${name}`).replace(/\[\s*(-?\d+)\s*\]/g, ".$1").replace(/^\./, "");
  return dotted === "model" ? "" : dotted;
}
