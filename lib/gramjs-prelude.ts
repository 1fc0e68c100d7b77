// Imported before `telegram` everywhere gramjs is used.
// 1. Bun defines a global `alert()` that blocks on stdin, and gramjs calls it when it meets an
//    unknown TL constructor: a silent hang. Removing it makes gramjs log and skip the object instead.
// 2. Faster long <-> bytes helpers must replace gramjs's before its TL layer loads (see the file).
import "./gramjs-fast-longs.ts";

delete (globalThis as { alert?: unknown }).alert;
export {};
