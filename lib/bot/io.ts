// What the handlers need from Telegram, as a small interface: the gramio adapter in app.ts
// implements it, and errors are classified here once (429 → wait, 403 → the user blocked us).

import { TelegramError } from "gramio";
import type { Keyboard } from "./menu.ts";

export interface BotIO {
  /** Sends a message once; rejects with the API error. Resolves with the message id. */
  sendOnce(chatId: number, text: string, keyboard?: Keyboard): Promise<number>;
  /** Answers a callback query; never rejects (failures are logged by the adapter). */
  answer(queryId: string, text?: string): void;
}

export type SendFailure =
  | { kind: "rateLimited"; retryAfterS: number }
  | { kind: "blocked"; description: string }
  | { kind: "other"; description: string; code?: number };

export function classifySendError(e: unknown): SendFailure {
  if (e instanceof TelegramError) {
    const retry = (e.payload as { retry_after?: number } | undefined)?.retry_after;
    if (e.code === 429) return { kind: "rateLimited", retryAfterS: typeof retry === "number" && retry > 0 ? retry : 1 };
    if (e.code === 403) return { kind: "blocked", description: e.message };
    return { kind: "other", description: e.message, code: e.code };
  }
  return { kind: "other", description: e instanceof Error ? e.message : String(e) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A reply to a user who is waiting for it: on 429 wait `retry_after` and try again, a few times.
 * (gramio never retries calls made from handlers.)
 */
export async function sendWithRetry(io: BotIO, chatId: number, text: string, keyboard?: Keyboard, attempts = 3): Promise<number> {
  for (let i = 1; ; i++) {
    try {
      return await io.sendOnce(chatId, text, keyboard);
    } catch (e) {
      const f = classifySendError(e);
      if (f.kind !== "rateLimited" || i >= attempts) throw e;
      await sleep(f.retryAfterS * 1000);
    }
  }
}
