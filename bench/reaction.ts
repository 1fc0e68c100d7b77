// Test bookings (🧪 Тест) by our client and by the baseline, alternating, against one sandbox in
// this process and the bot as `bun bot.ts` in its own (as in production: the bot's work after
// each send must not run in the clients' event loop). Per booking: the user presses 🧪 Тест (as a person would, through the
// sandbox), the bot announces after TEST_SMS_DELAY_MS, the client books. Figures:
//  - client reaction: the sandbox's trace (reaction-trace.ts), our client only;
//  - e2e: the bot's own stage times in its DB (test_runs.total_ms: announcement issued → confirm
//    received), for each client.

import { BUTTON, TEXT } from "../lib/ui.ts";
import { Human } from "../sandbox/human.ts";
import type { BenchClient, BookingDone } from "./clients.ts";
import { ReactionTrace, STAGES, type Stage } from "./reaction-trace.ts";
import { BENCH_BOT, startChildBotRig, type ChildBotRig } from "./rig.ts";
import { progress, round, sleep, summarise, type Pct } from "./stats.ts";

export const CITIES = ["Екатеринбург"];
const PHASE_JITTER_MS = 40;

export interface ClientRun {
  bookings: number;
  failed: number;
  e2e_ms: Pct;
  /** The bot's per-stage times (SMS → /start, /start → select, select → confirm). */
  bot_stages_ms: Record<"sms_to_start" | "start_to_select" | "select_to_confirm", Pct>;
}

export interface ReactionResult {
  client_reaction_ms: Pct & { stages: Record<Stage, Pct>; other_requests: number };
  /** The client's own view of its stage times, by stage name, when it reports them. */
  client_own_ms?: Record<string, Pct>;
  /** The client's own reaction: update entering its handler → request handed to gramjs. */
  client_own_reaction_ms?: Pct;
  ours: ClientRun;
  baseline: ClientRun;
}

export type ClientFactory = (rig: Pick<ChildBotRig, "sb">, phone: string) => Promise<BenchClient>;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

export async function benchReactions(o: { bookings: number; warmup: number; ours: ClientFactory; baseline: ClientFactory; smsDelayMs?: number }): Promise<ReactionResult> {
  const rig = await startChildBotRig({ BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: String(o.smsDelayMs ?? 30) });
  const clients: BenchClient[] = [];
  const humans: Human[] = [];
  try {
    const ours = await o.ours(rig, "+79990000101");
    clients.push(ours);
    const base = await o.baseline(rig, "+79990000102");
    clients.push(base);
    const botId = rig.sb.world.botByUsername(BENCH_BOT.username)!.id;
    const trace = new ReactionTrace(rig.sb.world, botId, new Set([ours.userId]));
    const own: Record<string, number[]> = {};
    const ownReactions: number[] = [];
    const failed = new Map<BenchClient, number>(clients.map((c) => [c, 0]));

    const person = new Map<BenchClient, Human>();
    for (const c of clients) {
      const h = new Human(rig.sb.world, c.userId, botId);
      humans.push(h);
      person.set(c, h);
      const menu = h.waitFor((m) => m.text.length > 0);
      h.send("/start");
      await menu;
    }

    const total = o.warmup + o.bookings;
    // Test runs after this id are the measured ones, whatever became of the warm-up bookings.
    let measuredAfterId = 0;
    const lastRunId = () => (rig.db.query("SELECT COALESCE(MAX(id), 0) AS id FROM test_runs").get() as { id: number }).id;
    for (let i = 0; i < total; i++) {
      if (i === o.warmup) measuredAfterId = lastRunId();
      if (i % 10 === 0) progress(`test bookings: ${i}/${total} (ours and baseline alternating)`);
      for (const c of clients) {
        const h = person.get(c)!;
        const { done } = await c.arm();
        const result = h.waitFor((m) => m.text.includes(TEXT.testResultHead), { timeoutMs: 15_000 });
        trace.recording = i >= o.warmup && c === ours;
        // A random pause first: otherwise TEST_SMS_DELAY_MS would keep the announcement in one
        // phase of a polling client's cycle, making its detection time always the same (lucky or not).
        await sleep(Math.random() * PHASE_JITTER_MS);
        await h.press(BUTTON.test);
        let out: BookingDone;
        try {
          out = await withTimeout(done, 15_000, `${c.name} booking ${i}`);
          await result;
        } catch (e) {
          progress(`${c.name}: booking ${i} failed: ${(e as Error).message}`);
          result.catch(() => {});
          failed.set(c, failed.get(c)! + 1);
          continue;
        }
        if (!out.booked) failed.set(c, failed.get(c)! + 1);
        if (c === ours && i >= o.warmup) {
          if (out.own) for (const [k, v] of Object.entries(out.own)) (own[k] ??= []).push(v);
          ownReactions.push(...(out.ownReactions ?? []));
        }
      }
    }
    trace.recording = false;
    trace.close();

    const run = (c: BenchClient): ClientRun => {
      const measured = rig.db
        .query("SELECT total_ms, sms_to_start_ms, start_to_select_ms, select_to_confirm_ms FROM test_runs WHERE user_id = ? AND status = 'done' AND id > ? ORDER BY id")
        .all(c.userId, measuredAfterId) as { total_ms: number; sms_to_start_ms: number; start_to_select_ms: number; select_to_confirm_ms: number }[];
      return {
        bookings: measured.length,
        failed: failed.get(c)!,
        e2e_ms: summarise(measured.map((r) => r.total_ms)),
        bot_stages_ms: {
          sms_to_start: summarise(measured.map((r) => r.sms_to_start_ms)),
          start_to_select: summarise(measured.map((r) => r.start_to_select_ms)),
          select_to_confirm: summarise(measured.map((r) => r.select_to_confirm_ms)),
        },
      };
    };
    const stages = Object.fromEntries(STAGES.map((s) => [s, summarise(trace.samples[s])])) as Record<Stage, Pct>;
    return {
      client_reaction_ms: { ...summarise(trace.all()), stages, other_requests: trace.otherRequests },
      ...(ownReactions.length ? { client_own_reaction_ms: summarise(ownReactions) } : {}),
      ...(Object.keys(own).length ? { client_own_ms: Object.fromEntries(Object.entries(own).map(([k, v]) => [k, summarise(v)])) } : {}),
      ours: run(ours),
      baseline: run(base),
    };
  } finally {
    for (const h of humans) h.close();
    for (const c of clients) await c.close();
    await rig.close();
  }
}

export function speedup(r: ReactionResult): number {
  return round(r.baseline.e2e_ms.p50 / r.ours.e2e_ms.p50, 2);
}
