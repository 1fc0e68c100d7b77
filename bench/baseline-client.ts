// The baseline the benchmark compares our client with: an auto-booker written the way the seed
// describes it (`polling_interval_ms: 30`, "минимум для быстрого обнаружения") and the way typical
// userbots are written with gramjs/Telethon: read the chat's latest message every 30 ms with
// client.getMessages (messages.getHistory), react to what it says, press buttons by their label
// with gramjs's own `message.click()` and await each press's answer before looking again.
//
// This is deliberately the typical approach, not a strawman: it uses the same gramjs connection
// code as our client, resolves the bot once (gramjs caches the entity), polls at the seed's
// fastest recommended interval, and does nothing slow on purpose. What it lacks is exactly what
// our client does differently: it polls instead of reacting to pushed updates, and it waits for
// each round trip (the callback answer) before it looks for the next message.

import type { TelegramClient } from "telegram";
import type { Api } from "telegram";
import { RECOGNISE } from "../lib/ui.ts";

export const POLLING_INTERVAL_MS = 30;

export interface BaselineOutcome {
  result: "booked" | "soldOut" | "timeout";
  text: string;
  polls: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class BaselineClient {
  /** The newest message id already handled, so one message is never acted on twice. */
  private lastHandled = 0;

  constructor(
    private readonly client: TelegramClient,
    private readonly bot: string,
    private readonly cities: string[],
  ) {}

  /** Remember where the chat is now: only messages after this count for the next booking. */
  async prepare(): Promise<void> {
    const [latest] = await this.client.getMessages(this.bot, { limit: 1 });
    this.lastHandled = latest?.id ?? 0;
  }

  /** Watch for the announcement, then /start → transport → confirm → result. */
  async book(timeoutMs = 10_000): Promise<BaselineOutcome> {
    let stage: "sms" | "menu" | "confirm" | "result" = "sms";
    let polls = 0;
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const [m] = await this.client.getMessages(this.bot, { limit: 1 });
      polls++;
      if (m && m.id > this.lastHandled && !m.out) {
        const text = m.message ?? "";
        if (stage === "sms" && text.includes(RECOGNISE.announcement)) {
          this.lastHandled = m.id;
          await this.client.sendMessage(this.bot, { message: "/start" });
          stage = "menu";
        } else if (stage === "menu" && this.hasButton(m, (t) => this.cities.some((c) => t.includes(c)))) {
          this.lastHandled = m.id;
          await m.click({ text: (t: string) => this.cities.some((c) => t.includes(c)) });
          stage = "confirm";
        } else if (stage === "confirm" && this.hasButton(m, (t) => t.includes(RECOGNISE.confirmButton))) {
          this.lastHandled = m.id;
          await m.click({ text: (t: string) => t.includes(RECOGNISE.confirmButton) });
          stage = "result";
        } else if (stage === "result" && (text.includes(RECOGNISE.booked) || text.includes(RECOGNISE.soldOut))) {
          this.lastHandled = m.id;
          return { result: text.includes(RECOGNISE.booked) ? "booked" : "soldOut", text, polls };
        }
      }
      await sleep(POLLING_INTERVAL_MS);
    }
    return { result: "timeout", text: "", polls };
  }

  private hasButton(m: Api.Message, test: (text: string) => boolean): boolean {
    const markup = m.replyMarkup;
    if (!markup || !("rows" in markup)) return false;
    return markup.rows.some((r) => r.buttons.some((b) => test(b.text)));
  }
}
