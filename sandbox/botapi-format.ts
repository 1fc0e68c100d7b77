// Formatted text as the Bot API takes it: `parse_mode` (HTML, MarkdownV2, legacy Markdown) or an
// explicit `entities` array, turned into plain text plus MessageEntity objects. Malformed markup is
// rejected with Telegram's "can't parse entities" texts. Pure functions: no world, no I/O.

import { parseHtml } from "./botapi-format-html.ts";
import { parseMarkdown, parseMarkdownV2 } from "./botapi-format-markdown.ts";
import { EntityParseError, normaliseUrl, type FormattedText } from "./botapi-format-text.ts";
import { WorldError, type MessageEntity } from "./world.ts";

export type { FormattedText } from "./botapi-format-text.ts";

const PARSERS: Record<string, (source: string) => FormattedText> = {
  html: parseHtml,
  markdownv2: parseMarkdownV2,
  markdown: parseMarkdown,
};

/**
 * The message text and entities for `text` sent with `parse_mode` and/or `entities` (a parsed JSON
 * value). Explicit entities win over parse_mode, as in the Bot API.
 */
export function formatText(text: string, parseMode: string | undefined, entities: unknown): FormattedText {
  if (entities !== undefined) return { text, entities: checkedEntities(entities, text) };
  if (!parseMode) return { text, entities: [] };
  const parse = PARSERS[parseMode.toLowerCase()];
  if (!parse) throw new WorldError(400, "Bad Request: unsupported parse_mode");
  try {
    const parsed = parse(text);
    return { text: parsed.text, entities: sortEntities(parsed.entities.filter((e) => e.length > 0)) };
  } catch (e) {
    if (e instanceof EntityParseError) throw new WorldError(400, `Bad Request: can't parse entities: ${e.message}`);
    throw e;
  }
}

const TYPE_ORDER: MessageEntity["type"][] = [
  "blockquote",
  "expandable_blockquote",
  "pre",
  "code",
  "bold",
  "italic",
  "underline",
  "strikethrough",
  "spoiler",
  "text_link",
  "custom_emoji",
];

/** Outer entities first: by offset, then longer first, then Telegram's order of types. */
export function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return entities.sort((a, b) => a.offset - b.offset || b.length - a.length || TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type));
}

/** Entity types Telegram knows but the sandbox does not keep (it finds commands itself). */
const DETECTED_TYPES = new Set(["mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "text_mention", "date_time"]);

/** An `entities` parameter, checked the way the Bot API checks it. */
function checkedEntities(raw: unknown, text: string): MessageEntity[] {
  if (!Array.isArray(raw)) throw new WorldError(400, "Bad Request: can't parse entities JSON object");
  const out: MessageEntity[] = [];
  for (const e of raw) {
    const o = (e ?? {}) as Record<string, unknown>;
    if (typeof o.type !== "string") throw new WorldError(400, 'Bad Request: can\'t parse MessageEntity: Field "type" must be of type String');
    for (const field of ["offset", "length"]) {
      if (!Number.isInteger(o[field])) throw new WorldError(400, `Bad Request: can't parse MessageEntity: Field "${field}" must be of type Integer`);
    }
    const entity = { type: o.type, offset: o.offset, length: o.length } as MessageEntity;
    if (entity.offset < 0 || entity.length < 0 || entity.offset + entity.length > text.length) {
      const end = entity.offset + entity.length;
      throw new WorldError(400, `Bad Request: entity beginning at UTF-16 offset ${entity.offset} ends after the end of the text at UTF-16 offset ${end}`);
    }
    if (DETECTED_TYPES.has(entity.type)) continue;
    if (!TYPE_ORDER.includes(entity.type)) throw new WorldError(400, "Bad Request: can't parse MessageEntity: Unsupported type specified");
    if (entity.type === "text_link") {
      const url = typeof o.url === "string" ? normaliseUrl(o.url) : undefined;
      if (!url) throw new WorldError(400, `Bad Request: URL '${String(o.url ?? "")}' is invalid: Wrong HTTP URL`);
      entity.url = url;
    }
    if (entity.type === "pre" && typeof o.language === "string" && o.language) entity.language = o.language;
    if (entity.type === "custom_emoji" && typeof o.custom_emoji_id === "string") entity.custom_emoji_id = o.custom_emoji_id;
    if (entity.length > 0) out.push(entity);
  }
  return sortEntities(out);
}
