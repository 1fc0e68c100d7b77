// Keeps the last world events as trace records for the watch view. It starts observing the world
// when the first web page connects, not with the sandbox: observing makes the MTProto front stamp
// every push, which a benchmark run without a browser should not pay for.

import { inlineButtons } from "../human.ts";
import type { World, WorldEvent } from "../world.ts";
import type { TraceRecord } from "./protocol.ts";
import { messageView } from "./views.ts";

const KEEP = 20_000;

export class Recorder {
  private records: TraceRecord[] = [];
  private readonly subscribers = new Set<(r: TraceRecord) => void>();
  private stopObserving: (() => void) | undefined;
  /** performance.now() when recording began. */
  since = 0;

  constructor(private readonly world: World) {}

  start(): void {
    if (this.stopObserving) return;
    this.since = performance.now();
    this.stopObserving = this.world.observe((e) => {
      const r = this.toRecord(e);
      if (!r) return;
      this.records.push(r);
      if (this.records.length > KEEP * 1.25) this.records = this.records.slice(-KEEP);
      for (const fn of this.subscribers) fn(r);
    });
  }

  recent(): TraceRecord[] {
    return this.records.slice(-KEEP);
  }

  subscribe(fn: (r: TraceRecord) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  stop(): void {
    this.stopObserving?.();
    this.stopObserving = undefined;
    this.subscribers.clear();
  }

  private toRecord(e: WorldEvent): TraceRecord | undefined {
    switch (e.type) {
      case "userMessage":
      case "botMessage":
      case "botEdit":
        return { kind: e.type, ts: e.ts, botId: e.message.botId, message: messageView(e.message) };
      case "callbackQuery": {
        const q = e.query;
        const m = this.world.getMessage(q.userId, q.botId, q.messageId);
        const label = (m && inlineButtons(m).find((b) => b.callback_data === q.data)?.text) ?? q.data;
        return { kind: "press", ts: e.ts, botId: q.botId, userId: q.userId, messageId: q.messageId, label };
      }
      case "mtprotoPush":
        return { kind: "push", ts: e.ts, userId: e.userId, messageId: e.messageId };
      default:
        return undefined; // answers carry no text in the trace; MTProto requests are too many to keep
    }
  }
}
