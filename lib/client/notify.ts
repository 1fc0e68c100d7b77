// After a booking, off the hot path: a message to Saved Messages and a terminal bell.

import "./gramjs/prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import type { ClientConfig } from "./config.ts";
import type { BookingOutcome } from "./booker.ts";
import { statsBlock } from "./stats-block.ts";
import { withTimeout } from "../timing.ts";
import { CLIENT_TEXT } from "../ui.ts";

export function notificationText(o: BookingOutcome): string {
  const head = o.result
    ? o.result.outcome === "booked"
      ? CLIENT_TEXT.notifyBooked(o.result.transport?.split("\n")[0])
      : CLIENT_TEXT.notifyAlreadyBooked
    : CLIENT_TEXT.notifyFailed(o.failure && o.stage ? `${o.failure} (${o.stage})` : o.failure);
  return `${head}\n\n${statsBlock(o.stats)}`;
}

/** Returns the problems met (never throws): a failed notification must not hide the booking. */
export async function notify(tg: TelegramClient | undefined, cfg: Pick<ClientConfig, "notifications" | "performance">, o: BookingOutcome): Promise<string[]> {
  if (cfg.notifications.soundAlert) process.stdout.write("\x07");
  if (!cfg.notifications.telegramNotify || !tg) return [];
  const problem = (why: string) => [`could not send the notification to Saved Messages: ${why}`];
  if (!tg.connected) return problem("not connected to Telegram");
  const timeoutMs = cfg.performance.connectionTimeoutS * 1000;
  try {
    // gramjs holds a request until it reconnects, which may be never: do not hang the exit on it.
    const sent = tg.invoke(new Api.messages.SendMessage({ peer: new Api.InputPeerSelf(), message: notificationText(o), randomId: generateRandomLong() }));
    await withTimeout(sent, timeoutMs, `no answer within ${timeoutMs / 1000} s`);
    return [];
  } catch (e) {
    return problem((e as Error).message);
  }
}
