// Request failures in words, and what the flow should make of them.

import { FloodWaitError, RPCError } from "telegram/errors";

export interface RequestFailure {
  /** For the user and the log, e.g. "FLOOD_WAIT: Telegram asks to wait 3 s (messages.SendMessage)". */
  reason: string;
  retryable: boolean;
  retryAfterMs?: number;
  /**
   * Not a failure of the booking: BOT_RESPONSE_TIMEOUT on a button press only means the bot did not
   * answer the callback query; the bot's message (menu, prompt, result) is what the flow waits for,
   * and the stage timeout covers a press that really got lost.
   */
  ignorable?: boolean;
  kind: "flood" | "rpc" | "network" | "other";
}

export function classifyRequestError(e: unknown, method: string): RequestFailure {
  if (e instanceof FloodWaitError) {
    const s = Math.max(1, e.seconds);
    return { kind: "flood", reason: `FLOOD_WAIT: Telegram asks to wait ${s} s before the next request (${method})`, retryable: true, retryAfterMs: s * 1000 };
  }
  if (e instanceof RPCError) {
    const msg = e.errorMessage;
    if (msg === "BOT_RESPONSE_TIMEOUT") return { kind: "rpc", reason: `the bot did not answer the button press in time (${method})`, retryable: true, ignorable: true };
    const code = e.code ?? 0;
    // 5xx and -503 ("Timeout") are Telegram's own trouble: worth another try.
    const retryable = code >= 500 || code < 0 || msg === "TIMEOUT";
    return { kind: "rpc", reason: `Telegram refused ${method}: ${code} ${msg}`, retryable, ...(retryable ? { retryAfterMs: 500 } : {}) };
  }
  const text = e instanceof Error ? e.message : String(e);
  if (/disconnect|connection|socket|timeout|ECONN|EPIPE|reconnect/i.test(text)) {
    return { kind: "network", reason: `connection problem during ${method}: ${text}`, retryable: true, retryAfterMs: 1000 };
  }
  return { kind: "other", reason: `${method} failed: ${text}`, retryable: true, retryAfterMs: 500 };
}
