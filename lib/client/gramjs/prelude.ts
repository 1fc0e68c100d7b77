// Imported before `telegram` everywhere gramjs is used; the one place that checks we run the
// gramjs whose internals this folder relies on (see the README's "gramjs internals").
// - Bun defines a global `alert()` that blocks on stdin, and gramjs calls it on an unknown TL
//   constructor: a silent hang. Without it gramjs logs and skips the object instead.
// - Faster long <-> bytes helpers must replace gramjs's before its TL layer loads.
import { createRequire } from "node:module";
import "./fast-longs.ts";

const PINNED_GRAMJS = "2.26.22";
const installed = (createRequire(import.meta.url)("telegram/package.json") as { version: string }).version;
if (installed !== PINNED_GRAMJS) {
  throw new Error(
    `telegram (gramjs) ${installed} is installed, but this client relies on internals of ${PINNED_GRAMJS}: run \`bun install\` (package.json pins it)`,
  );
}
delete (globalThis as { alert?: unknown }).alert;
