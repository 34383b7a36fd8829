// onnx.proto through protobufjs's reflection: for tests, tools and the benchmark (protobufjs's own
// decode), and to generate `schemaTable.ts`, the table the codec is built from. Nothing on the
// compiler's or the runtime's path imports this module, so protobufjs is not loaded there.

import protobuf from "protobufjs";
import { onnxProtoText } from "./onnxProtoText.js";
import { PACKED, REPEATED, type SchemaTable, type TableField } from "./schemaTable.js";

let root: protobuf.Root | undefined;

/** The parsed protobufjs root, for callers that want reflection (enum names, options). */
export function onnxRoot(): protobuf.Root {
  if (root !== undefined) return root;
  root = protobuf.parse(onnxProtoText, { keepCase: true }).root;
  root.resolveAll();
  return root;
}

/** The schema table of `schemaTable.ts`, computed from onnx.proto. */
export function buildSchemaTable(): SchemaTable {
  const table: SchemaTable = { messages: {}, enums: {} };
  const full = (t: protobuf.ReflectionObject) => t.fullName.replace(/^\./, "");
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const fields: TableField[] = Object.values(nested.fieldsById).map((f) => {
          const resolved = f.resolvedType;
          const type = resolved === null ? f.type : full(resolved);
          const flags = (f.repeated ? REPEATED : 0) | (f.packed ? PACKED : 0);
          return f.partOf ? [f.name, f.id, type, flags, f.partOf.name] : [f.name, f.id, type, flags];
        });
        const reserved = (nested.reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map((r) => [r[0]!, r[1]!] as [number, number]);
        table.messages[full(nested)] = { fields, reserved };
      } else if (nested instanceof protobuf.Enum) {
        table.enums[full(nested)] = [...new Set(Object.values(nested.values))].sort((a, b) => a - b);
      }
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(onnxRoot());
  return table;
}

/** The text of `schemaTable.ts` for `table`. */
export function schemaTableSource(table: SchemaTable): string {
  const lines = [
    "// Generated from onnx.proto by `buildSchemaTable` (reflection.ts). Do not edit: change onnx.proto,",
    "// then run the ONNX I/O tests with INTV_REGEN=1 to rewrite this file (and onnxProtoText.ts).",
    "",
    "/** `flags` bits of a field. */",
    "export const REPEATED = 1;",
    "/** Declared `[packed = true]`. */",
    "export const PACKED = 2;",
    "",
    "/** A field: name, number, type (a scalar type, or a message or enum by full name), flags, oneof. */",
    "export type TableField = [name: string, id: number, type: string, flags: number, oneof?: string];",
    "",
    "export interface SchemaTable {",
    "  messages: Record<string, { fields: TableField[]; reserved: [number, number][] }>;",
    "  /** The values of each enum, ascending. */",
    "  enums: Record<string, number[]>;",
    "}",
    "",
    "export const schemaTable: SchemaTable = {",
    "  messages: {",
  ];
  for (const [name, m] of Object.entries(table.messages)) {
    lines.push(`    ${JSON.stringify(name)}: {`);
    lines.push("      fields: [");
    for (const f of m.fields) lines.push(`        ${JSON.stringify(f).replace(/,/g, ", ")},`);
    lines.push("      ],");
    lines.push(`      reserved: ${JSON.stringify(m.reserved).replace(/,/g, ", ")},`);
    lines.push("    },");
  }
  lines.push("  },", "  enums: {");
  for (const [name, values] of Object.entries(table.enums)) lines.push(`    ${JSON.stringify(name)}: ${JSON.stringify(values).replace(/,/g, ", ")},`);
  lines.push("  },", "};", "");
  return lines.join("\n");
}
