// Re-exports for sandbox/ until its own copies (branch wt-mtproto) are merged; then delete.
export * from "./client/gramjs/connect.ts";
