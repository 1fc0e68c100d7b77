// 🧪 Test mode: a private rehearsal of the opening for one user. The bot creates transports only
// this user can book, sends the announcement after TEST_SMS_DELAY_MS, and times the reaction on
// its own clock: announcement → /start → transport chosen → confirmed. Each run is stored.

import type { BotDb, TestRunRow, TestStages, TransportSeed } from "../db.ts";
import type { Logger } from "../log.ts";
import { TEXT } from "../ui.ts";
import { classifySendError, sendWithRetry, type BotIO } from "./io.ts";

/** How many routes (from the top of the transports file) a test run gets. */
export const TEST_TRANSPORT_COUNT = 3;
/** An announced run nobody finished is over after this long. */
export const TEST_RUN_TTL_MS = 10 * 60_000;

/** Stage times of a run confirmed at `confirmAt`; a skipped stage (no /start) counts as zero. */
export function testStages(run: Pick<TestRunRow, "sms_at" | "start_at" | "select_at">, confirmAt: number): TestStages {
  const sms = run.sms_at ?? confirmAt;
  const start = run.start_at ?? sms;
  const select = run.select_at ?? start;
  return { smsToStart: start - sms, startToSelect: select - start, selectToConfirm: confirmAt - select, total: confirmAt - sms };
}

/** Whether a run is announced and not finished or expired at `at`. */
export function runIsOpen(run: TestRunRow, at: number): boolean {
  return run.status === "open" && run.sms_at !== null && at - run.sms_at < TEST_RUN_TTL_MS;
}

export function testSeed(seed: readonly TransportSeed[]): TransportSeed[] {
  return seed.slice(0, TEST_TRANSPORT_COUNT);
}

export interface TestModeDeps {
  db: BotDb;
  io: BotIO;
  log: Logger;
  delayMs: number;
  seed: readonly TransportSeed[];
  now: () => number;
}

export class TestMode {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly sending = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly d: TestModeDeps) {}

  /** The user pressed 🧪 Тест. */
  async begin(userId: number, chatId: number, at: number): Promise<void> {
    const { db, io, log } = this.d;
    const active = db.activeRun(userId);
    if (active?.status === "waiting") {
      await sendWithRetry(io, chatId, TEXT.testRunning);
      return;
    }
    const { run, transports } = db.createTestRun(userId, at, testSeed(this.d.seed));
    log.info("test_run_created", { run_id: run.id, user_id: userId, transports: transports.map((t) => t.id), sms_in_ms: this.d.delayMs });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const p = this.sendSms(run.id, userId, chatId).finally(() => this.sending.delete(p));
      this.sending.add(p);
    }, this.d.delayMs);
    this.timers.add(timer);
    await sendWithRetry(io, chatId, TEXT.testStarting(this.d.delayMs));
  }

  private async sendSms(runId: number, userId: number, chatId: number): Promise<void> {
    if (this.stopped) return;
    const { db, io, log, now } = this.d;
    // The clock starts when the announcement is issued, and the run opens first, so even a /start
    // that beats the send's response is counted.
    const at = now();
    if (!db.runSmsSent(runId, at)) return; // replaced by a newer run meanwhile
    try {
      await sendWithRetry(io, chatId, TEXT.testAnnouncement);
      log.info("test_sms_sent", { run_id: runId, user_id: userId, send_ms: Number((now() - at).toFixed(2)) });
    } catch (e) {
      log.warn("test_sms_failed", { run_id: runId, user_id: userId, error: classifySendError(e).kind === "blocked" ? "blocked" : (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.sending]);
  }
}
