// parse_mode "HTML" as Telegram reads it: a handful of tags, nested; the entities &lt; &gt; &amp;
// &quot; and numeric ones (others stay literal); attributes quoted or as name tokens. Errors carry
// Telegram's texts and UTF-8 byte offsets.

import { EntityParseError, byteOffset, normaliseUrl, type FormattedText } from "./botapi-format-text.ts";
import type { MessageEntity } from "./world.ts";

const SIMPLE_TAGS: Record<string, MessageEntity["type"]> = {
  b: "bold",
  strong: "bold",
  i: "italic",
  em: "italic",
  u: "underline",
  ins: "underline",
  s: "strikethrough",
  strike: "strikethrough",
  del: "strikethrough",
  "tg-spoiler": "spoiler",
  code: "code",
  pre: "pre",
};
const OTHER_TAGS = new Set(["a", "span", "tg-emoji", "blockquote"]);

interface OpenTag {
  name: string;
  attrs: Map<string, string>;
  /** UTF-16 offset in the output text where the tag's content starts. */
  start: number;
  /** Index of "<" in the source. */
  at: number;
}

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";

export function parseHtml(source: string): FormattedText {
  const fail = (message: string): never => {
    throw new EntityParseError(message);
  };
  const at = (i: number) => byteOffset(source, i);
  let text = "";
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === "&") {
      const decoded = decodeEntity(source, i);
      if (decoded) {
        text += decoded.char;
        i = decoded.end;
      } else {
        text += c;
        i++;
      }
      continue;
    }
    if (c !== "<") {
      text += c;
      i++;
      continue;
    }
    const begin = i++;
    if (source[i] === "/") {
      if (!open.length) fail(`Unexpected end tag at byte offset ${at(begin)}`);
      i++;
      const nameStart = i;
      while (i < source.length && !isSpace(source[i]) && source[i] !== ">") i++;
      const name = source.slice(nameStart, i).toLowerCase();
      while (isSpace(source[i])) i++;
      if (source[i] !== ">") fail(`Unclosed end tag at byte offset ${at(begin)}`);
      i++;
      const tag = open.pop()!;
      if (name && name !== tag.name) fail(`Unmatched end tag at byte offset ${at(begin)}, expected "</${tag.name}>", found "</${name}>"`);
      const entity = entityFor(tag, text);
      if (entity) entities.push(entity);
      continue;
    }
    const nameStart = i;
    while (i < source.length && !isSpace(source[i]) && source[i] !== ">") i++;
    if (i >= source.length) fail(`Unclosed start tag at byte offset ${at(begin)}`);
    const name = source.slice(nameStart, i).toLowerCase();
    if (!(name in SIMPLE_TAGS) && !OTHER_TAGS.has(name)) fail(`Unsupported start tag "${name}" at byte offset ${at(begin)}`);
    const attrs = new Map<string, string>();
    for (;;) {
      while (isSpace(source[i])) i++;
      if (i >= source.length) fail(`Unclosed start tag at byte offset ${at(begin)}`);
      if (source[i] === ">") break;
      const attrStart = i;
      while (i < source.length && !isSpace(source[i]) && source[i] !== "=" && source[i] !== ">") i++;
      const attr = source.slice(attrStart, i).toLowerCase();
      if (!attr) fail(`Empty attribute name in the tag "${name}" at byte offset ${at(begin)}`);
      while (isSpace(source[i])) i++;
      if (source[i] !== "=") {
        attrs.set(attr, ""); // an attribute without a value, e.g. <blockquote expandable>
        continue;
      }
      i++;
      while (isSpace(source[i])) i++;
      if (i >= source.length) fail(`Unclosed start tag "${name}" at byte offset ${at(begin)}`);
      const value = readAttributeValue(source, i);
      if (value.end >= source.length) fail(`Unclosed start tag at byte offset ${at(begin)}`);
      if (value.badToken) fail(`Unexpected end of name token at byte offset ${at(i)}`);
      attrs.set(attr, value.value);
      i = value.end;
    }
    i++; // ">"
    if (name === "span" && attrs.get("class") !== "tg-spoiler") fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at(begin)}`);
    open.push({ name, attrs, start: text.length, at: begin });
  }
  if (open.length) fail(`Can't find end tag corresponding to start tag "${open[open.length - 1]!.name}"`);
  if (!text.isWellFormed()) {
    fail("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units");
  }
  return { text, entities: mergePreCode(entities) };
}

function entityFor(tag: OpenTag, text: string): MessageEntity | undefined {
  const offset = tag.start;
  const length = text.length - offset;
  if (length <= 0) return undefined;
  const simple = SIMPLE_TAGS[tag.name];
  if (simple === "code") {
    const language = /^language-(.+)$/.exec(tag.attrs.get("class") ?? "")?.[1];
    return language ? { type: "code", offset, length, language } : { type: "code", offset, length };
  }
  if (simple) return { type: simple, offset, length };
  if (tag.name === "span") return { type: "spoiler", offset, length };
  if (tag.name === "blockquote") return { type: tag.attrs.has("expandable") ? "expandable_blockquote" : "blockquote", offset, length };
  if (tag.name === "tg-emoji") {
    const id = tag.attrs.get("emoji-id");
    return id && /^\d+$/.test(id) ? { type: "custom_emoji", offset, length, custom_emoji_id: id } : undefined;
  }
  // <a>: href, or the link's own text as its URL; a URL Telegram does not accept drops the link.
  const url = normaliseUrl(tag.attrs.get("href") ?? text.slice(offset));
  return url ? { type: "text_link", offset, length, url } : undefined;
}

/** <pre><code class="language-x"> over the same text is one pre entity with a language. */
function mergePreCode(entities: MessageEntity[]): MessageEntity[] {
  const out: MessageEntity[] = [];
  for (const e of entities) {
    if (e.type !== "code" || e.language === undefined) {
      out.push(e);
      continue;
    }
    const pre = entities.find((p) => p.type === "pre" && p.offset === e.offset && p.length === e.length);
    if (pre) pre.language = e.language;
    else out.push({ type: "code", offset: e.offset, length: e.length });
  }
  return out;
}

function readAttributeValue(source: string, i: number): { value: string; end: number; badToken?: boolean } {
  const quote = source[i];
  if (quote === '"' || quote === "'") {
    let value = "";
    let j = i + 1;
    while (j < source.length && source[j] !== quote) {
      const decoded = source[j] === "&" ? decodeEntity(source, j) : undefined;
      if (decoded) {
        value += decoded.char;
        j = decoded.end;
      } else {
        value += source[j++];
      }
    }
    return { value, end: j < source.length ? j + 1 : j };
  }
  // A name token: letters, digits, periods, hyphens; case-insensitive.
  let j = i;
  while (j < source.length && /[A-Za-z0-9.-]/.test(source[j]!)) j++;
  const next = source[j];
  return { value: source.slice(i, j).toLowerCase(), end: j, badToken: next !== undefined && !isSpace(next) && next !== ">" };
}

const NAMED: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** The character an HTML entity at `i` stands for, or undefined when Telegram keeps it literally. */
function decodeEntity(source: string, i: number): { char: string; end: number } | undefined {
  let j = i + 1;
  let code: number;
  if (source[j] === "#") {
    j++;
    const hex = source[j] === "x";
    if (hex) j++;
    const digitsStart = j;
    while (j < source.length && (hex ? /[0-9a-fA-F]/ : /[0-9]/).test(source[j]!)) j++;
    if (j === digitsStart || j - i >= 10) return undefined;
    code = parseInt(source.slice(digitsStart, j), hex ? 16 : 10);
    if (code === 0 || code >= 0x10ffff) return undefined;
  } else {
    while (j < source.length && /[A-Za-z]/.test(source[j]!)) j++;
    const char = NAMED[source.slice(i + 1, j)];
    if (!char) return undefined;
    code = char.codePointAt(0)!;
  }
  if (source[j] === ";") j++;
  return { char: String.fromCodePoint(code), end: j };
}
