// parse_mode "MarkdownV2" and legacy "Markdown" as Telegram reads them. MarkdownV2: nested
// entities, only the innermost can end, every reserved character outside code must be escaped with
// "\", ">" at a line start opens a block quote (ended by a "||" line: expandable). Legacy Markdown:
// _italic_, *bold*, `code`, ```pre```, [text](url), no nesting. Errors carry Telegram's texts and
// UTF-8 byte offsets.

import { EntityParseError, byteOffset, normaliseUrl, type FormattedText } from "./botapi-format-text.ts";
import type { MessageEntity } from "./world.ts";

type OpenType = "bold" | "italic" | "underline" | "strikethrough" | "spoiler" | "code" | "pre" | "text_link" | "custom_emoji" | "blockquote";

interface Open {
  type: OpenType;
  /** UTF-16 offset in the output text. */
  start: number;
  /** Index of the opening mark in the source. */
  at: number;
  language?: string;
}

/** Telegram's names for entities in "Can't find end of X entity" errors. */
function errorName(o: Open): string {
  if (o.type === "pre") return o.language === undefined ? "Pre" : "PreCode";
  const names: Record<OpenType, string> = {
    bold: "Bold",
    italic: "Italic",
    underline: "Underline",
    strikethrough: "Strikethrough",
    spoiler: "Spoiler",
    code: "Code",
    pre: "Pre",
    text_link: "TextUrl",
    custom_emoji: "CustomEmoji",
    blockquote: "BlockQuote",
  };
  return names[o.type];
}

const RESERVED = "_*[]()~`>#+-=|{}.!\n";
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
/** "\" escapes the next character when it is ASCII (1..126); otherwise it is a literal backslash. */
const escapable = (c: string | undefined) => c !== undefined && c.charCodeAt(0) > 0 && c.charCodeAt(0) <= 126;

export function parseMarkdownV2(source: string): FormattedText {
  const fail = (message: string): never => {
    throw new EntityParseError(message);
  };
  const reserved = (c: string): never => fail(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
  const unclosed = (o: Open): never => fail(`Can't find end of ${errorName(o)} entity at byte offset ${byteOffset(source, o.at)}`);
  let text = "";
  const entities: MessageEntity[] = [];
  const open: Open[] = [];
  let inQuote = false;
  let canStartQuote = true;
  const n = source.length;

  for (let i = 0; i < n; i++) {
    const c = source[i]!;
    if (c === "\\" && escapable(source[i + 1])) {
      text += source[++i];
      if (source[i] !== "\r") canStartQuote = source[i] === "\n";
      continue;
    }
    const top = open[open.length - 1];
    const inCode = top?.type === "code" || top?.type === "pre";
    if (!(inCode ? c === "`" : RESERVED.includes(c))) {
      text += c;
      if (c !== "\r") canStartQuote = false;
      continue;
    }

    const endsQuote = inQuote && c === "\n" && source[i + 1] !== ">";
    const ends = top !== undefined && (endsQuote || endsEntity(top, c, source[i + 1], source[i + 2]));
    if (!ends) {
      const at = i;
      let type: OpenType;
      let language: string | undefined;
      if (c === "_") {
        type = source[i + 1] === "_" ? "underline" : "italic";
        if (type === "underline") i++;
      } else if (c === "*") type = "bold";
      else if (c === "~") type = "strikethrough";
      else if (c === "|" && source[i + 1] === "|") {
        type = "spoiler";
        i++;
      } else if (c === "[") type = "text_link";
      else if (c === "`" && source[i + 1] === "`" && source[i + 2] === "`") {
        type = "pre";
        i += 3;
        let end = i;
        while (end < n && !isSpace(source[end]) && source[end] !== "`") end++;
        if (end !== i && end < n && source[end] !== "`") {
          language = source.slice(i, end);
          i = end;
        }
        // one line break right after the opening ``` (and language) is not part of the text
        if (source[i] === "\n" || source[i] === "\r") {
          const pair = (source[i + 1] === "\n" || source[i + 1] === "\r") && source[i] !== source[i + 1];
          i += pair ? 2 : 1;
        }
        i--;
      } else if (c === "`") type = "code";
      else if (c === "!" && source[i + 1] === "[") {
        type = "custom_emoji";
        i++;
      } else if (c === "\n") {
        text += c;
        canStartQuote = true;
        continue;
      } else if (c === ">" && canStartQuote) {
        if (inQuote) continue;
        type = "blockquote";
        inQuote = true;
      } else return reserved(c);
      open.push({ type, start: text.length, at, language });
      continue;
    }

    // The innermost entity ends here.
    let entry = open.pop()!;
    let quoteType: "blockquote" | "expandable_blockquote" = "blockquote";
    if (endsQuote && entry.type !== "blockquote") {
      // Only "||" right before the line break may end a quote: it makes the quote expandable.
      const spoilerMark = entry.type === "spoiler" && (entry.at === i - 2 || (entry.at === i - 3 && text.endsWith("\r")));
      if (!spoilerMark) unclosed(entry);
      entry = open.pop()!;
      if (entry.type !== "blockquote") unclosed(entry);
      quoteType = "expandable_blockquote";
    }
    const offset = entry.start;
    let entity: MessageEntity | undefined;
    switch (entry.type) {
      case "underline":
      case "spoiler":
        i++;
        entity = { type: entry.type, offset, length: text.length - offset };
        break;
      case "bold":
      case "italic":
      case "strikethrough":
      case "code":
        entity = { type: entry.type, offset, length: text.length - offset };
        break;
      case "pre":
        i += 2;
        entity = { type: "pre", offset, length: text.length - offset };
        if (entry.language !== undefined) entity.language = entry.language;
        break;
      case "text_link": {
        let url = text.slice(offset);
        if (source[i + 1] === "(") {
          const read = readUrl(source, i + 2);
          if (read.end >= n) fail(`Can't find end of a URL at byte offset ${byteOffset(source, i + 2)}`);
          url = read.url;
          i = read.end;
        }
        const checked = normaliseUrl(url);
        if (checked) entity = { type: "text_link", offset, length: text.length - offset, url: checked };
        break;
      }
      case "custom_emoji": {
        if (source[i + 1] !== "(") fail("Custom emoji entity must contain a tg://emoji URL");
        const read = readUrl(source, i + 2);
        if (read.end >= n) fail(`Can't find end of a custom emoji URL at byte offset ${byteOffset(source, i + 2)}`);
        const id = /^tg:\/\/emoji\/?\?(?:[^#]*&)?id=([1-9]\d*)(?:[&#]|$)/i.exec(read.url)?.[1];
        if (!id) fail("Custom emoji URL must have an emoji identifier");
        entity = { type: "custom_emoji", offset, length: text.length - offset, custom_emoji_id: id };
        i = read.end;
        break;
      }
      case "blockquote":
        text += c; // the line break belongs to the quote
        canStartQuote = true;
        inQuote = false;
        entity = { type: quoteType, offset, length: text.length - offset };
        break;
    }
    if (entity && entity.length > 0) entities.push(entity);
  }

  if (inQuote) {
    // A quote ends with the text; a "||" at the very end makes it expandable.
    let type: MessageEntity["type"] = "blockquote";
    const last = open[open.length - 1];
    if (last?.type === "spoiler" && last.at === n - 2) {
      open.pop();
      type = "expandable_blockquote";
    }
    const quote = open[open.length - 1];
    if (quote?.type === "blockquote") {
      open.pop();
      if (text.length > quote.start) entities.push({ type, offset: quote.start, length: text.length - quote.start });
    }
  }
  if (open.length) unclosed(open[open.length - 1]!);
  return { text, entities };
}

function endsEntity(top: Open, c: string, next: string | undefined, afterNext: string | undefined): boolean {
  switch (top.type) {
    case "bold":
      return c === "*";
    case "italic":
      return c === "_" && next !== "_";
    case "underline":
      return c === "_" && next === "_";
    case "strikethrough":
      return c === "~";
    case "spoiler":
      return c === "|" && next === "|";
    case "code":
      return c === "`";
    case "pre":
      return c === "`" && next === "`" && afterNext === "`";
    case "text_link":
    case "custom_emoji":
      return c === "]";
    case "blockquote":
      return false;
  }
}

/** A link target from `start` up to ")", with "\" escapes; `end` is the index of ")" (or the length). */
function readUrl(source: string, start: number): { url: string; end: number } {
  let url = "";
  let i = start;
  while (i < source.length && source[i] !== ")") {
    if (source[i] === "\\" && escapable(source[i + 1])) {
      url += source[i + 1];
      i += 2;
    } else {
      url += source[i++];
    }
  }
  return { url, end: i };
}

/** Legacy "Markdown": _italic_, *bold*, `code`, ```lang pre```, [text](url); no nesting, few escapes. */
export function parseMarkdown(source: string): FormattedText {
  let text = "";
  const entities: MessageEntity[] = [];
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source[i]!;
    if (c === "\\" && "_*`[".includes(source[i + 1] ?? "")) {
      text += source[++i];
      continue;
    }
    if (!"_*`[".includes(c)) {
      text += c;
      continue;
    }
    const begin = i;
    const end = c === "[" ? "]" : c;
    const isPre = c === "`" && source[i + 1] === "`" && source[i + 2] === "`";
    i++;
    let language = "";
    if (isPre) {
      i += 2;
      let langEnd = i;
      while (langEnd < n && !isSpace(source[langEnd]) && source[langEnd] !== "`") langEnd++;
      if (i !== langEnd && langEnd < n && source[langEnd] !== "`") {
        language = source.slice(i, langEnd);
        i = langEnd;
      }
      if (source[i] === "\n" || source[i] === "\r") {
        const pair = (source[i + 1] === "\n" || source[i + 1] === "\r") && source[i] !== source[i + 1];
        i += pair ? 2 : 1;
      }
    }
    const start = text.length;
    while (i < n && (source[i] !== end || (isPre && !(source[i + 1] === "`" && source[i + 2] === "`")))) text += source[i++];
    if (i >= n) throw new EntityParseError(`Can't find end of the entity starting at byte offset ${byteOffset(source, begin)}`);
    const length = text.length - start;
    if (c === "[") {
      let url = text.slice(start);
      if (source[i + 1] === "(") {
        i += 2;
        url = "";
        while (i < n && source[i] !== ")") url += source[i++];
      }
      const checked = normaliseUrl(url);
      if (length > 0 && checked) entities.push({ type: "text_link", offset: start, length, url: checked });
      continue;
    }
    if (isPre) i += 2;
    if (length === 0) continue;
    if (c === "_") entities.push({ type: "italic", offset: start, length });
    else if (c === "*") entities.push({ type: "bold", offset: start, length });
    else if (isPre) entities.push(language ? { type: "pre", offset: start, length, language } : { type: "pre", offset: start, length });
    else entities.push({ type: "code", offset: start, length });
  }
  return { text, entities };
}
