// Client reaction time as the sandbox sees it: from the MTProto front writing a bot message's
// update to the client's socket (mtprotoPush) to the client's action request arriving and being
// decoded (mtprotoRequest: /start or a button press). Stages: the announcement (→ /start), the
// menu (→ press the transport) and the confirmation prompt (→ press confirm). Only the first
// action after each push counts; any other request in between (pings are not traced) is counted
// separately, so a client that polls cannot pass a poll off as its reaction.

import { BUTTON, RECOGNISE, TEXT } from "../lib/ui.ts";
import { inlineButtons } from "../sandbox/human.ts";
import type { World } from "../sandbox/world.ts";

export type Stage = "sms" | "menu" | "confirm";
export const STAGES: Stage[] = ["sms", "menu", "confirm"];
const ACTIONS = new Set(["messages.SendMessage", "messages.GetBotCallbackAnswer"]);

export class ReactionTrace {
  readonly samples: Record<Stage, number[]> = { sms: [], menu: [], confirm: [] };
  /** Requests other than an action between a push and the reaction to it. */
  otherRequests = 0;
  recording = false;
  private readonly pending = new Map<number, { stage: Stage; ts: number }>();
  private readonly stop: () => void;

  constructor(world: World, botId: number, userIds: ReadonlySet<number>) {
    this.stop = world.observe((e) => {
      if (e.type === "mtprotoPush") {
        if (!userIds.has(e.userId) || this.pending.has(e.userId)) return;
        const m = world.getMessage(e.userId, botId, e.messageId);
        if (!m || !m.outgoingFromBot) return;
        const stage: Stage | undefined = m.text.includes(RECOGNISE.announcement)
          ? "sms"
          : m.text === TEXT.menuOpen
            ? "menu"
            : inlineButtons(m).some((b) => b.text === BUTTON.confirm)
              ? "confirm"
              : undefined;
        if (stage) this.pending.set(e.userId, { stage, ts: e.ts });
      } else if (e.type === "mtprotoRequest") {
        const p = this.pending.get(e.userId);
        if (!p) return;
        if (!ACTIONS.has(e.method)) {
          if (this.recording) this.otherRequests++;
          return;
        }
        this.pending.delete(e.userId);
        if (this.recording) this.samples[p.stage].push(e.ts - p.ts);
      }
    });
  }

  all(): number[] {
    return STAGES.flatMap((s) => this.samples[s]);
  }

  close(): void {
    this.stop();
  }
}
