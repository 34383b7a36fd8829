// Text in and out of generation: a Hugging Face `tokenizer.json` (with the `tokenizer_config.json`
// beside it, when there is one) read offline by @huggingface/tokenizers, and chat templates rendered
// by @huggingface/jinja, the libraries transformers.js uses. Both are loaded on first use, so that
// commands that never see text do not load them.

import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** A tokenizer file that cannot be read or used; the message names the file and says why. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerError";
  }
}

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TextTokenizer {
  /** The tokenizer.json it was read from. */
  readonly file: string;
  /** Tokens in the vocabulary, added tokens included. */
  readonly vocabSize: number;
  /** The chat template of tokenizer_config.json, if it has one. */
  readonly chatTemplate: string | null;
  /** Token ids of `text`; with `addSpecialTokens` (default true) the post-processor's (a BOS, say) too. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** The text of `ids`; special tokens are kept unless `skipSpecialTokens`. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** The id of a token given by its text (`<|endoftext|>`), if it is in the vocabulary. */
  tokenId(token: string): number | undefined;
  /** The prompt text for `messages`, rendered by the chat template (ending with the assistant's turn). */
  applyChatTemplate(messages: readonly ChatMessage[]): string;
}

/** `tokenizer.json` next to `model` (a file), or null. */
export function tokenizerNextTo(model: string): string | null {
  const file = join(dirname(model), "tokenizer.json");
  return existsSync(file) ? file : null;
}

/** Read `file` (a tokenizer.json) and the tokenizer_config.json next to it, if any. */
export async function loadTokenizer(file: string): Promise<TextTokenizer> {
  const tokenizerJson = await readJson(file, "tokenizer");
  const configFile = join(dirname(file), "tokenizer_config.json");
  const config = existsSync(configFile) ? await readJson(configFile, "tokenizer config") : {};
  const { Tokenizer } = await import("@huggingface/tokenizers");
  let tokenizer: InstanceType<typeof Tokenizer>;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new TokenizerError(`${file}: cannot use this tokenizer: ${(e as Error).message}`);
  }
  const chatTemplate = chatTemplateOf(config);
  if (chatTemplate !== null) await loadTemplates();
  const vocabSize = tokenizer.get_vocab(true).size;
  const specials: Record<string, string> = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    const v = config[key];
    const text = typeof v === "string" ? v : typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string" ? (v as { content: string }).content : null;
    if (text !== null) specials[key] = text;
  }
  let template: { render(items: Record<string, unknown>): string } | null = null;
  return {
    file,
    vocabSize,
    chatTemplate,
    encode(text, options = {}) {
      return tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
    },
    decode(ids, options = {}) {
      return tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
    },
    tokenId(token) {
      return tokenizer.token_to_id(token);
    },
    applyChatTemplate(messages) {
      if (chatTemplate === null) throw new TokenizerError(`${configFile}: no \`chat_template\` (a chat prompt needs one; give the text with --prompt instead)`);
      if (template === null) template = makeTemplate(chatTemplate, configFile);
      try {
        return template.render({ messages, add_generation_prompt: true, ...specials });
      } catch (e) {
        throw new TokenizerError(`${configFile}: the chat template failed: ${(e as Error).message}`);
      }
    },
  };
}

let jinja: typeof import("@huggingface/jinja") | undefined;

/** Load @huggingface/jinja before rendering a chat template (loadTokenizer does it when there is one). */
export async function loadTemplates(): Promise<void> {
  jinja ??= await import("@huggingface/jinja");
}

function makeTemplate(text: string, where: string): { render(items: Record<string, unknown>): string } {
  if (!jinja) throw new Error("internal error: @huggingface/jinja is not loaded (this is a bug in intv)");
  try {
    return new jinja.Template(text);
  } catch (e) {
    throw new TokenizerError(`${where}: the chat template does not parse: ${(e as Error).message}`);
  }
}

/** The chat template: a string, or the one named `default` of a list of named templates. */
function chatTemplateOf(config: Record<string, unknown>): string | null {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const hit = named.find((x) => x.name === "default") ?? named[0];
    return typeof hit?.template === "string" ? hit.template : null;
  }
  return null;
}

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TokenizerError(`${file}: cannot read the ${what}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (e as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError(`${file}: the ${what} is not valid JSON (${(e as Error).message})`);
  }
}
