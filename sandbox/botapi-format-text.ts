// What the parse_mode parsers share: their result, their error, byte offsets and link URLs.

import type { MessageEntity } from "./world.ts";

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

/** A markup error; the Bot API answers it as "Bad Request: can't parse entities: <message>". */
export class EntityParseError extends Error {}

/** UTF-8 byte offset of UTF-16 index `index` in `source`: Telegram reports markup errors in bytes. */
export function byteOffset(source: string, index: number): number {
  return Buffer.byteLength(source.slice(0, index));
}

const URL_RE = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#\s]+)([^\s]*)$/i;
const HOST_RE = /^(?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*\.?(?::\d{1,5})?$|^\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/i;

/**
 * A link's URL as Telegram stores it ("telegram.org" becomes "http://telegram.org/"), or undefined
 * when Telegram would drop the link (no host it accepts). tg:// links are kept as they are.
 */
export function normaliseUrl(raw: string): string | undefined {
  const url = raw.trim();
  if (/^tg:/i.test(url)) return url;
  const m = URL_RE.exec(url);
  if (!m) return undefined;
  const scheme = (m[1] ?? "http").toLowerCase();
  if (!["http", "https", "ftp", "ton", "tonsite"].includes(scheme)) return undefined;
  const host = m[2]!.replace(/^[^@]*@/, "");
  if (!HOST_RE.test(host)) return undefined; // Telegram refuses localhost and bare names too
  const rest = m[3]!;
  return `${scheme}://${m[2]}${rest.startsWith("/") ? rest : `/${rest}`}`;
}
