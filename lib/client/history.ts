// The history fallback (messages.getHistory) for what pushed updates may have missed: in the final
// seconds before a scheduled opening, and after a reconnect. A check feeds only what is new or changed.

import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import { returnBigInt } from "telegram/Helpers";
import type { MessageEvent } from "../flow.ts";
import { messageFromBot, type CallbackTokens } from "./updates.ts";

export const historyRequest = (peer: Api.TypeInputPeer, limit: number) =>
  new Api.messages.GetHistory({ peer, offsetId: 0, offsetDate: 0, addOffset: 0, limit, maxId: 0, minId: 0, hash: returnBigInt(0) });

const sameMessage = (a: MessageEvent, b: MessageEvent) => JSON.stringify([a.text, a.buttons]) === JSON.stringify([b.text, b.buttons]);

export class ChatHistory {
  /** message id → the version last fed to the flow */
  private readonly seen = new Map<number, MessageEvent>();
  /** the newest message id before the booking began: older ones are never fed */
  private baselineId: number | undefined;
  private inFlight = false;
  polls = 0;
  hits = 0;

  constructor(
    private readonly tg: TelegramClient,
    private readonly peer: Api.InputPeerUser,
    private readonly botId: string,
  ) {}

  /** Reads the baseline; false when the history cannot be read. */
  async begin(): Promise<boolean> {
    const res = await this.tg.invoke(historyRequest(this.peer, 1)).catch(() => undefined);
    if (!res || !("messages" in res)) return false;
    this.baselineId = res.messages.reduce((max, m) => Math.max(max, m.id), 0);
    return true;
  }

  remember(ev: MessageEvent): void {
    this.seen.set(ev.id, ev);
  }

  /** One check: the messages no update delivered, oldest first. */
  async check(tokens: CallbackTokens): Promise<MessageEvent[]> {
    if (this.inFlight) return [];
    this.inFlight = true;
    this.polls++;
    try {
      const res = await this.tg.invoke(historyRequest(this.peer, 10));
      if (!("messages" in res)) return [];
      const found: MessageEvent[] = [];
      for (const m of res.messages.toReversed()) {
        const ev = messageFromBot(m, this.botId, tokens, performance.now());
        if (!ev) continue;
        const prev = this.seen.get(ev.id);
        if (prev ? sameMessage(prev, ev) : this.baselineId === undefined || ev.id <= this.baselineId) continue;
        this.seen.set(ev.id, ev);
        this.hits++;
        found.push(ev);
      }
      return found;
    } finally {
      this.inFlight = false;
    }
  }
}
