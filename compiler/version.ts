// The compiler's version, recorded in every compiled model's manifest.
export const COMPILER_VERSION = "0.1.0";
