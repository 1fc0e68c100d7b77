// The client's door to gramjs: `Api` and `TelegramClient` come from here, so that fast-longs is
// installed before gramjs loads and we refuse a gramjs other than the one whose internals this folder
// relies on (the README's "gramjs internals"). Other `telegram/...` imports come after this one.
import { createRequire } from "node:module";
import "./fast-longs.ts";

const PINNED_GRAMJS = "2.26.22";
const installed = (createRequire(import.meta.url)("telegram/package.json") as { version: string }).version;
if (installed !== PINNED_GRAMJS) {
  throw new Error(
    `telegram (gramjs) ${installed} is installed, but this client relies on internals of ${PINNED_GRAMJS}: run \`bun install\` (package.json pins it)`,
  );
}
// Bun's global alert() blocks on stdin, and gramjs calls it on an unknown TL constructor: a silent hang.
delete (globalThis as { alert?: unknown }).alert;

export { Api, TelegramClient } from "telegram";
