// Errors of the ONNX I/O layer. Both are user-facing (bad input, not bugs in intv): the message
// is one line that says what is wrong and where, so the command line can print it as it is.

/** A file or byte string that is not a valid ONNX model, or external data that cannot be used. */
export class OnnxFormatError extends Error {
  /** Byte offset in the decoded buffer where the problem was found, when there is one. */
  readonly offset: number | undefined;

  constructor(message: string, offset?: number) {
    super(message);
    this.name = "OnnxFormatError";
    this.offset = offset;
  }
}

/**
 * A model object that cannot be encoded: a value of the wrong JavaScript type, out of range, an
 * unknown property, two members of one oneof. `path` names the field, e.g.
 * `graph.node[3].attribute[0].i`.
 */
export class OnnxEncodeError extends Error {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(path === "" ? problem : `${path}: ${problem}`);
    this.name = "OnnxEncodeError";
    this.path = path;
  }
}
