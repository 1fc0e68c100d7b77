// 🧪 Test mode: a private rehearsal of the opening for one user. The bot creates transports only
// this user can book, sends the announcement after TEST_SMS_DELAY_MS, and times the reaction on
// its own clock: announcement → /start → transport chosen → confirmed. Each run is stored.

import type { BotDb, TestRunRow, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { TEXT } from "../ui.ts";
import type { Sender } from "./sender.ts";

/** An announced run nobody finished is over after this long. */
export const TEST_RUN_TTL_MS = 10 * 60_000;

/** Whether a run is announced and neither finished nor expired at `at`. */
export function runIsOpen(run: TestRunRow, at: number): boolean {
  return run.status === "open" && run.sms_at !== null && at - run.sms_at < TEST_RUN_TTL_MS;
}

export class TestMode {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly db: BotDb,
    private readonly sender: Sender,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly delayMs: number,
    private readonly seed: readonly TransportSeed[],
  ) {}

  /** The user pressed 🧪 Тест. */
  begin(userId: number, chatId: number, at: number): void {
    if (this.db.activeRun(userId)?.status === "waiting") {
      void this.sender.send(chatId, TEXT.testRunning, { userId });
      return;
    }
    const runId = this.db.createTestRun(userId, at, this.seed.slice(0, 3));
    this.log.info("test_run_created", { run_id: runId, user_id: userId, sms_in_ms: this.delayMs });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.sendSms(runId, userId, chatId);
    }, this.delayMs);
    this.timers.add(timer);
    void this.sender.send(chatId, TEXT.testStarting(this.delayMs), { userId });
  }

  private async sendSms(runId: number, userId: number, chatId: number): Promise<void> {
    // The clock starts when the announcement is issued, and the run opens first, so even a /start
    // that beats the send's response is counted.
    const at = this.now();
    if (!this.db.runSmsSent(runId, at)) return; // replaced by a newer run meanwhile
    const outcome = await this.sender.send(chatId, TEXT.testAnnouncement, { userId, priority: "result" });
    this.log.info(outcome === "sent" ? "test_sms_sent" : "test_sms_failed", { run_id: runId, user_id: userId, outcome, send_ms: Number((this.now() - at).toFixed(2)) });
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
