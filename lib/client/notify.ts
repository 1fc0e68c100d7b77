// After a booking, off the hot path: a message to Saved Messages and a terminal bell.

import "./gramjs/prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import type { ClientConfig } from "./config.ts";
import type { BookingOutcome } from "./booker.ts";
import { statsBlock } from "./stats-block.ts";
import { CLIENT_TEXT } from "../ui.ts";

export function notificationText(o: BookingOutcome): string {
  const head = o.result
    ? o.result.outcome === "booked"
      ? CLIENT_TEXT.notifyBooked(o.result.transport?.split("\n")[0])
      : CLIENT_TEXT.notifyAlreadyBooked
    : CLIENT_TEXT.notifyFailed(o.failure && o.stage ? `${o.failure} (${o.stage})` : o.failure);
  return `${head}\n\n${statsBlock(o.stats)}`;
}

const NOTIFY_TIMEOUT_MS = 5000;

/** Returns the problems met (never throws): a failed notification must not hide the booking. */
export async function notify(tg: TelegramClient | undefined, cfg: Pick<ClientConfig, "notifications">, o: BookingOutcome): Promise<string[]> {
  const problems: string[] = [];
  if (cfg.notifications.soundAlert) process.stdout.write("\x07");
  if (cfg.notifications.telegramNotify && tg) {
    try {
      const sent = tg.invoke(new Api.messages.SendMessage({ peer: new Api.InputPeerSelf(), message: notificationText(o), randomId: generateRandomLong() }));
      // gramjs holds a request until it reconnects, which may be never: do not hang the exit on it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${NOTIFY_TIMEOUT_MS / 1000} s`)), NOTIFY_TIMEOUT_MS);
      });
      await Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
    } catch (e) {
      problems.push(`could not send the notification to Saved Messages: ${(e as Error).message}`);
    }
  }
  return problems;
}
