// `intv inspect`: the module tree recovered from a model, like `print(model)` in PyTorch.

import type { Command } from "../command.js";
import { UsageError } from "../args.js";
import { CliError, EXIT } from "../output.js";

export const inspectCommand: Command = {
  name: "inspect",
  summary: "print the module tree of a model, with ports, types and execution order",
  usage: ["intv inspect MODEL.onnx [--json] [--depth N]"],
  description: "One module a line, indented like PyTorch's print(model): its input and output types and shapes, its parameters, and #rank, its place in execution order. Modules that exist but left no nodes in the exported graph (dropout, folded BatchNorm) say so.",
  positionals: [{ name: "MODEL.onnx" }],
  options: [
    { name: "json", description: "print the tree as JSON" },
    { name: "depth", value: "N", description: "show N levels below the root" },
  ],
  async run(args, io) {
    // Loaded here, so that `intv --help` and other commands do not pay for the compiler; and the
    // model half of it only (compiler/model.ts), without the script parser.
    const { formatTree, moduleToJson, readModelFile, prepareModel } = await import("../../compiler/model.js");
    const file = args.positionals[0]!;
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
    io.stdout.write(args.flag("json") ? `${JSON.stringify(moduleToJson(tree.root, depth), null, 2)}\n` : `${formatTree(tree, depth)}\n`);
    return EXIT.ok;
  },
};
