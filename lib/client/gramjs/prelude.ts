// Imported before `telegram` everywhere gramjs is used: checks we run the gramjs whose internals
// this folder relies on (the README's "gramjs internals") and installs fast-longs before gramjs loads.
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
