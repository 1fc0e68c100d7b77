// Imported before `telegram` by every sandbox module that uses gramjs's TL classes or crypto.
// Bun defines a global `alert()` that blocks on stdin, and gramjs calls it when it meets an unknown
// TL constructor: a silent hang. Without it gramjs logs and skips the object instead.
// (The product has its own prelude in lib/; the sandbox imports nothing from lib/.)

delete (globalThis as { alert?: unknown }).alert;
export {};
