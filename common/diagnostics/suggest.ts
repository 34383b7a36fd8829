// "Did you mean …?" for unknown names: a small, pure edit distance and a chooser.

/**
 * Damerau–Levenshtein distance (optimal string alignment: insertions, deletions, substitutions
 * and transpositions of two adjacent characters each cost 1), over code points.
 */
export function editDistance(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  // Three rolling rows: i-2, i-1, i.
  let before = new Array<number>(t.length + 1).fill(0);
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  let current = new Array<number>(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i++) {
    current[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current[j] = d;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[t.length]!;
}

export interface SuggestOptions {
  /**
   * Also take a candidate that `name` is a prefix of, or that is a prefix of `name` (the first
   * such in order wins): command-line options are often shortened (`--mod` for `--model`).
   */
  prefixes?: boolean;
}

/**
 * The candidate `name` was most likely meant to be, or `undefined` when none is close enough.
 * The one "did you mean" of intv: the compiler's diagnostics, the runtime's input checks and the
 * command line's options all use it.
 *
 * Close enough: equal ignoring case, or at most one edit per three characters of `name` (at
 * least one edit, and fewer edits than `name` has characters, so `x` never suggests `y`).
 * Ties go to the candidate listed first. `name` itself is never suggested.
 */
export function suggest(name: string, candidates: Iterable<string>, options: SuggestOptions = {}): string | undefined {
  if (options.prefixes) {
    const list = [...candidates];
    const prefix = list.find((c) => c !== name && (c.startsWith(name) || name.startsWith(c)));
    if (prefix !== undefined) return prefix;
    candidates = list;
  }
  const length = [...name].length;
  const limit = Math.min(Math.max(1, Math.floor(length / 3)), length - 1);
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const same = candidate.toLowerCase() === lower;
    // The distance is at least the difference in length: skip the (quadratic) comparison when that
    // alone is too far. A name of 1,000,000 characters took seconds per candidate (found by
    // test/fuzz.test.ts).
    if (!same && Math.abs([...candidate].length - length) > limit) continue;
    const distance = same ? 0 : editDistance(name, candidate);
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `did you mean \`mlp\`?` for help text, or `undefined` when there is nothing to suggest. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const match = suggest(name, candidates);
  return match === undefined ? undefined : `did you mean \`${match}\`?`;
}
