// Imported before `telegram` everywhere gramjs is used. Bun defines a global `alert()` that blocks
// on stdin, and gramjs calls it when it meets an unknown TL constructor: a silent hang. Removing it
// makes gramjs log and skip the object instead.
delete (globalThis as { alert?: unknown }).alert;
export {};
