// The test booking (🧪 Тест) over a simulated network, against the protocol's limit. For each
// client↔DC round trip (bot↔Bot API fixed): our client as `bun client.ts --mode immediate` (one
// process per booking, all started up front so that start-up is not in the figures) and the
// polling baseline, alternating, on one sandbox and one `bun bot.ts`. e2e is the bot's own figure
// (test_runs.total_ms: announcement issued → confirm received).
//
// The limit: the booking needs three exchanges (announcement → /start, menu → transport press,
// prompt → confirm press), each a bot → Bot API → client → Bot API → bot trip, so
// 6 × (bot↔API one-way + client↔DC one-way), plus the bot's own handling of /start and of the
// transport press, measured in the same run on the sandbox's clock (user's request in → the bot's
// reply in, minus one bot↔API round trip), plus its own work before the announcement leaves and
// after the confirm press reaches it (its e2e minus the span the sandbox saw between the two,
// minus two one-way trips). A client can only add to that.

import { parseAction } from "../lib/bot/keyboards.ts";
import { BUTTON, RECOGNISE } from "../lib/ui.ts";
import { Human } from "../sandbox/human.ts";
import type { World } from "../sandbox/world.ts";
import { baselineClient, type BenchClient } from "./clients.ts";
import { ReactionTrace } from "./reaction-trace.ts";
import { exitWithin, NET_BOT, startNetStack, type NetStack } from "./net-stack.ts";
import { progress, round, sleep, summarise, type Pct } from "./stats.ts";

export interface NetworkSetting {
  rtt_ms: number;
  bot_api_delay_ms: number;
  ours_e2e_ms: Pct;
  baseline_e2e_ms: Pct;
  /** The bot's own handling (p50 of each goes into the limit): of /start, of the transport press, and before its announcement leaves plus after the confirm press reaches it. */
  bot_handling_ms: { start: Pct; select: Pct; announce_and_confirm: Pct };
  limit_ms: number;
  /** Our client's reaction as the sandbox sees it (update written → its next request read), all three stages: what it adds to the limit. */
  ours_reaction_ms: Pct;
  ours_ratio: number;
  baseline_ratio: number;
  ours_failed: number;
  baseline_failed: number;
  /** Every booking's e2e, ms, in booking order (for the picture). */
  ours_samples_ms: number[];
  baseline_samples_ms: number[];
}

const CITIES = ["Екатеринбург"];
const PHASE_JITTER_MS = 40;
const BOOKING_TIMEOUT_MS = 20_000;

/**
 * The bot's handling as the sandbox sees it: a /start or transport press in → the bot's next
 * message or edit to that user; and, per user, each announcement's and confirm press's arrival
 * (what the bot does before the announcement leaves and after the confirm reaches it is its
 * e2e minus the span between these two).
 */
class BotHandling {
  readonly start: number[] = [];
  readonly select: number[] = [];
  /** userId → [announcement in, confirm press in] per booking, in order */
  readonly spans = new Map<number, [number, number][]>();
  private readonly pending = new Map<number, { stage: "start" | "select"; ts: number }>();
  private readonly announced = new Map<number, number>();
  private readonly stop: () => void;

  constructor(world: World, botRoundTripMs: number) {
    this.stop = world.observe((e) => {
      if (e.type === "botMessage" && e.message.text.includes(RECOGNISE.announcement)) this.announced.set(e.message.userId, e.ts);
      if (e.type === "callbackQuery" && parseAction(e.query.data)?.kind === "confirm") {
        const a = this.announced.get(e.query.userId);
        this.announced.delete(e.query.userId);
        if (a !== undefined) this.spans.set(e.query.userId, [...(this.spans.get(e.query.userId) ?? []), [a, e.ts]]);
      }
      if (e.type === "userMessage" && e.message.text === "/start") this.pending.set(e.message.userId, { stage: "start", ts: e.ts });
      else if (e.type === "callbackQuery" && parseAction(e.query.data)?.kind === "select") this.pending.set(e.query.userId, { stage: "select", ts: e.ts });
      else if (e.type === "botMessage" || e.type === "botEdit") {
        const p = this.pending.get(e.message.userId);
        if (!p) return;
        this.pending.delete(e.message.userId);
        this.stage(p.stage).push(Math.max(0, e.ts - p.ts - botRoundTripMs));
      }
    });
  }

  private stage(s: "start" | "select"): number[] {
    return s === "start" ? this.start : this.select;
  }

  close(): void {
    this.stop();
  }
}

async function person(world: World, userId: number): Promise<Human> {
  const h = new Human(world, userId, NET_BOT.username);
  const menu = h.waitFor((m) => m.text.length > 0, { timeoutMs: 10_000 });
  h.send("/start");
  await menu;
  return h;
}

export async function benchNetworkSetting(o: { rttMs: number; botApiDelayMs: number; bookings: number }): Promise<NetworkSetting> {
  const stack = await startNetStack({
    sandbox: { mtprotoDelay: { delayMs: o.rttMs / 2 }, botApiDelay: { delayMs: o.botApiDelayMs } },
    env: { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "30" },
  });
  const humans: Human[] = [];
  let baseline: BenchClient | undefined;
  try {
    const world = stack.sb.world;
    const phones = Array.from({ length: o.bookings }, (_, i) => `+7999100${String(i).padStart(4, "0")}`);
    const ours = [];
    for (const phone of phones) {
      const h = await person(world, world.userForPhone(phone).id);
      humans.push(h);
      ours.push({ h, client: stack.client(phone, ["--mode", "immediate"], { cities: [CITIES] }) });
    }
    baseline = await baselineClient(stack.sb, "+79991009999", NET_BOT.username, CITIES);
    const baseHuman = await person(world, baseline.userId);
    humans.push(baseHuman);
    await Promise.all(ours.map((x) => x.client.waitFor(/watching/i, 60_000)));

    const handling = new BotHandling(world, 2 * o.botApiDelayMs);
    const reactions = new ReactionTrace(world, stack.botId, new Set(ours.map((x) => x.h.userId)));
    reactions.recording = true;
    let oursFailed = 0;
    let baselineFailed = 0;
    for (let i = 0; i < o.bookings; i++) {
      progress(`network rtt ${o.rttMs} ms: booking ${i + 1}/${o.bookings} (ours and baseline alternating)`);
      const mine = ours[i]!;
      await sleep(Math.random() * PHASE_JITTER_MS);
      await mine.h.press(BUTTON.test);
      if ((await exitWithin(mine.client, BOOKING_TIMEOUT_MS)) !== 0) {
        oursFailed++;
        progress(`ours: booking ${i + 1} failed:\n${mine.client.tail(5)}`);
      }
      const { done } = await baseline.arm();
      await sleep(Math.random() * PHASE_JITTER_MS); // the announcement lands anywhere in the polling cycle
      await baseHuman.press(BUTTON.test);
      const out = await Promise.race([done, sleep(BOOKING_TIMEOUT_MS).then(() => ({ booked: false }))]);
      if (!out.booked) baselineFailed++;
    }
    // Let the last result reach the database.
    await sleep(100 + 4 * o.botApiDelayMs);
    handling.close();
    reactions.close();

    const runs = (userIds: number[]) =>
      stack.db.query(`SELECT user_id, total_ms FROM test_runs WHERE status = 'done' AND user_id IN (${userIds.map(() => "?").join(",")}) ORDER BY id`).all(...userIds) as {
        user_id: number;
        total_ms: number;
      }[];
    const oursRuns = runs(ours.map((x) => x.h.userId));
    const baseRuns = runs([baseline.userId]);
    const oursSamples = oursRuns.map((r) => round(r.total_ms, 1));
    const baseSamples = baseRuns.map((r) => round(r.total_ms, 1));
    // The bot's work on the first and last legs: its e2e minus the span the sandbox saw, minus the two one-way trips.
    const seen = new Map<number, number>();
    const edges: number[] = [];
    for (const r of [...oursRuns, ...baseRuns]) {
      const i = seen.get(r.user_id) ?? 0;
      seen.set(r.user_id, i + 1);
      const span = handling.spans.get(r.user_id)?.[i];
      if (span) edges.push(Math.max(0, r.total_ms - (span[1] - span[0]) - 2 * o.botApiDelayMs));
    }
    const edge = summarise(edges);
    const oursE2e = summarise(oursSamples);
    const baseE2e = summarise(baseSamples);
    const start = summarise(handling.start);
    const select = summarise(handling.select);
    const limit = round(6 * (o.botApiDelayMs + o.rttMs / 2) + start.p50 + select.p50 + edge.p50, 1);
    return {
      rtt_ms: o.rttMs,
      bot_api_delay_ms: o.botApiDelayMs,
      ours_e2e_ms: oursE2e,
      baseline_e2e_ms: baseE2e,
      bot_handling_ms: { start, select, announce_and_confirm: edge },
      limit_ms: limit,
      // The sandbox sees the push leave and the request arrive: the link's round trip is in between.
      ours_reaction_ms: summarise(reactions.all().map((x) => Math.max(0, x - o.rttMs))),
      ours_ratio: round(oursE2e.p50 / limit, 2),
      baseline_ratio: round(baseE2e.p50 / limit, 2),
      ours_failed: oursFailed,
      baseline_failed: baselineFailed,
      ours_samples_ms: oursSamples,
      baseline_samples_ms: baseSamples,
    };
  } finally {
    for (const h of humans) h.close();
    await baseline?.close();
    await stack.close();
  }
}

export async function benchNetwork(o: { rtts: number[]; botApiDelayMs: number; bookings: number }): Promise<NetworkSetting[]> {
  const out: NetworkSetting[] = [];
  for (const rttMs of o.rtts) out.push(await benchNetworkSetting({ rttMs, botApiDelayMs: o.botApiDelayMs, bookings: o.bookings }));
  return out;
}

if (import.meta.main) {
  const bookings = Number(process.argv[2] ?? 5);
  const rtts = (process.argv[3] ?? "0,30,100").split(",").map(Number);
  console.log(JSON.stringify(await benchNetwork({ rtts, botApiDelayMs: 20, bookings }), null, 1));
}
