// For sandbox tests and bench until their imports move to lib/client/gramjs/; then delete.
export * from "./client/gramjs/fast-longs.ts";
