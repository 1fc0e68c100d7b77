// bun run bench [--quick] [--json] [--smoke]
// Everything runs on the local sandbox on loopback. Progress goes to stderr; the table (or, with
// --json, one JSON object) to stdout. Misses are reported as measured: nothing is tuned to pass.

import { cpus } from "node:os";
import { join } from "node:path";
import { baselineClient, ourClient } from "./clients.ts";
import { benchFloor } from "./floor.ts";
import { benchBroadcast, type BroadcastRun } from "./broadcast.ts";
import { benchRace } from "./race.ts";
import { benchRaceLimited } from "./race-limited.ts";
import { benchReactions, CITIES, speedup } from "./reaction.ts";
import { ms, pct, table, type Row } from "./report.ts";
import { BENCH_BOT } from "./rig.ts";
import { benchBotRss, benchClientRss } from "./rss.ts";
import { benchScheduler } from "./scheduler.ts";
import { benchOverNetwork, overNetworkRows, writeBenchSvg } from "./over-network.ts";
import { progress, round } from "./stats.ts";

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--quick" && a !== "--json" && a !== "--smoke") {
    console.error(`unknown argument ${a}\nusage: bun run bench [--quick] [--json]   (--smoke: tiny sizes for the test suite, figures meaningless)`);
    process.exit(2);
  }
}
const quick = args.includes("--quick");
const asJson = args.includes("--json");
const smoke = args.includes("--smoke");
const P = smoke
  ? { bookings: 3, warmup: 1, raceUsers: 100, seats: 5, broadcastUsers: 500, limitedUsers: 300, rssUsers: 500, raceLimitedUsers: 10 }
  : quick
  ? { bookings: 50, warmup: 2, raceUsers: 1000, seats: 10, broadcastUsers: 10_000, limitedUsers: 1000, rssUsers: 10_000, raceLimitedUsers: 300 }
  : { bookings: 100, warmup: 5, raceUsers: 1000, seats: 10, broadcastUsers: 10_000, limitedUsers: 2000, rssUsers: 10_000, raceLimitedUsers: 1000 };
const TARGET = { reactionP99: 1, e2eP50: 15, speedup: 3, schedulerP99: 1 };

const t0 = performance.now();
const errors: Record<string, string> = {};
async function part<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  progress(`${name}…`);
  try {
    return await run();
  } catch (e) {
    errors[name] = (e as Error).stack ?? String(e);
    progress(`${name} FAILED: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The parts run one after the other, in this order. --smoke runs them in three lanes side by side
 * (its figures mean nothing anyway: tiny sizes on a shared CPU; what it checks is that every part
 * runs and reports): the two broadcasts count every HTTP 429 in this process, so they share a lane
 * with the only other part whose sandbox answers 429, and no other lane has a rate limit.
 */
const lanes = new Map<number, Promise<unknown>>();
function inLane<T>(lane: number, name: string, run: () => Promise<T>): Promise<T | undefined> {
  const key = smoke ? lane : 0;
  const p = (lanes.get(key) ?? Promise.resolve()).then(() => part(name, run));
  lanes.set(key, p);
  return p;
}

const [scheduler, reactions, floor, race, raceLimited, fast, limited, botRss, clientRss] = await Promise.all([
  // The scheduler first, while nothing else runs in this process (but under --smoke).
  inLane(1, "scheduler", () => benchScheduler(smoke ? 20 : 200)),
  inLane(1, "test bookings", () =>
    benchReactions({
      bookings: P.bookings,
      warmup: P.warmup,
      ours: (rig, phone) => ourClient(rig.sb, phone, BENCH_BOT.username, CITIES),
      baseline: (rig, phone) => baselineClient(rig.sb, phone, BENCH_BOT.username, CITIES),
    }),
  ),
  inLane(1, "gramjs floor", () => benchFloor(smoke ? 20 : 300)),
  // --smoke's 100 people are ready in a few ms; a late start would only open the day at once.
  inLane(2, "race", () => benchRace(P.raceUsers, P.seats, smoke ? 300 : 1500)),
  inLane(2, "race under Telegram's limits", () => benchRaceLimited(P.raceLimitedUsers, smoke ? 5 : 10)),
  // Pacing lifted (the bot's config allows at most 1000/s): the figure is capacity, not the configured pace.
  inLane(2, "broadcast", () => benchBroadcast(P.broadcastUsers, { botRatePerS: 100_000 })),
  // The bot sends twice as fast as the sandbox allows, so 429s must happen and be retried.
  inLane(2, "broadcast with rate limit", () =>
    benchBroadcast(P.limitedUsers, { botRatePerS: 2000, limit: { globalPerSecond: 1000, globalBurst: 100 } }),
  ),
  inLane(3, "bot rss", () => benchBotRss(P.rssUsers)),
  inLane(3, "client rss", () => benchClientRss()),
]);
// Over a simulated network (bun client.ts, bun bot.ts and the sandbox's delay proxies); not in --smoke.
const overNetwork = smoke ? { network: null, clock_error_ms: null, race_rank: null } : await benchOverNetwork(quick, part);

const unhandled429 = (b: BroadcastRun) => Math.max(0, b.http_429 - b.retried_429) + b.missing + b.duplicates;
const result = {
  quick,
  ...(smoke ? { smoke } : {}),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", bun: Bun.version, platform: `${process.platform}-${process.arch}` },
  client_reaction_ms: reactions?.client_reaction_ms ?? null,
  client_own_reaction_ms: reactions?.client_own_reaction_ms ?? null,
  /** A do-nothing gramjs client that sends a request from its raw update handler: the floor. */
  client_reaction_floor_ms: floor ?? null,
  client_own_stages_ms: reactions?.client_own_ms ?? null,
  e2e_ms: reactions ? { ...reactions.ours.e2e_ms, bookings: reactions.ours.bookings, failed: reactions.ours.failed, stages: reactions.ours.bot_stages_ms } : null,
  baseline_e2e_ms: reactions
    ? { ...reactions.baseline.e2e_ms, bookings: reactions.baseline.bookings, failed: reactions.baseline.failed, stages: reactions.baseline.bot_stages_ms, polling_interval_ms: 30 }
    : null,
  speedup: reactions ? speedup(reactions) : null,
  scheduler_lateness_ms: scheduler ? { ...scheduler.lateness, early: scheduler.early } : null,
  race: race ?? null,
  race_limited: raceLimited ?? null,
  broadcast: fast
    ? {
        messages_per_s: fast.messages_per_s,
        users: fast.users,
        delivered_once: fast.delivered_once,
        ms: fast.ms,
        bot_pacing_per_s: fast.bot_rate_per_s,
        rate_limited: limited ? { ...limited, unhandled_429: unhandled429(limited) } : null,
      }
    : null,
  rss_mb: {
    bot: botRss?.rss_mb ?? null,
    bot_peak: botRss?.peak_mb ?? null,
    bot_users: botRss?.users ?? null,
    client: clientRss && "rss_mb" in clientRss ? clientRss.rss_mb : null,
    client_watching: clientRss && "rss_mb" in clientRss ? clientRss.watching_mb : null,
    client_peak: clientRss && "rss_mb" in clientRss ? clientRss.peak_mb : null,
    ...(clientRss && "error" in clientRss ? { client_error: clientRss.error } : {}),
    method: "/proc/<pid>/status VmRSS and VmHWM of `bun bot.ts` and `bun client.ts` child processes",
  },
  ...overNetwork,
  duration_s: 0,
  ...(Object.keys(errors).length ? { errors } : {}),
};
result.duration_s = round((performance.now() - t0) / 1000, 1);

const rows: Row[] = [];
const r = result;
if (r.client_reaction_ms) {
  rows.push({ figure: "client reaction (sandbox push → request)", value: pct(r.client_reaction_ms), target: `p99 < ${TARGET.reactionP99} ms`, met: r.client_reaction_ms.p99 < TARGET.reactionP99 });
  for (const [s, p] of Object.entries(r.client_reaction_ms.stages)) rows.push({ figure: `  stage ${s}`, value: pct(p) });
}
if (r.client_reaction_floor_ms) rows.push({ figure: "  floor: trivial gramjs client, same path", value: pct(r.client_reaction_floor_ms) });
if (r.client_own_reaction_ms) rows.push({ figure: "client's own handler (update → request handed over)", value: pct(r.client_own_reaction_ms) });
if (r.e2e_ms) rows.push({ figure: `e2e, ours (bot's clock, n=${r.e2e_ms.n})`, value: pct(r.e2e_ms), target: `p50 < ${TARGET.e2eP50} ms`, met: r.e2e_ms.p50 < TARGET.e2eP50 });
if (r.baseline_e2e_ms) rows.push({ figure: `e2e, baseline (30 ms polling, n=${r.baseline_e2e_ms.n})`, value: pct(r.baseline_e2e_ms) });
if (r.speedup !== null) rows.push({ figure: "speedup (baseline p50 / ours p50)", value: `${r.speedup}×`, target: `≥ ${TARGET.speedup}×`, met: r.speedup >= TARGET.speedup });
if (r.scheduler_lateness_ms) rows.push({ figure: `scheduler lateness (${r.scheduler_lateness_ms.n} instants)`, value: pct(r.scheduler_lateness_ms), target: `p99 < ${TARGET.schedulerP99} ms`, met: r.scheduler_lateness_ms.p99 < TARGET.schedulerP99 });
if (r.race) {
  rows.push({ figure: `race: ${r.race.users} users, ${r.race.seats} seats: sold`, value: String(r.race.sold), target: `= ${r.race.seats}`, met: r.race.sold === r.race.seats });
  rows.push({ figure: "race: overbooked", value: String(r.race.overbooked), target: "0", met: r.race.overbooked === 0 });
  rows.push({ figure: "race: unanswered", value: String(r.race.unanswered), target: "0", met: r.race.unanswered === 0 });
  rows.push({ figure: "race: booking attempts answered", value: `${r.race.bookings_per_s}/s` });
  rows.push({ figure: "race: bot response (press → reply)", value: pct(r.race.bot_response_ms) });
  rows.push({ figure: "race: opening → last seat sold", value: ms(r.race.sold_out_after_ms) });
}
if (r.race_limited) {
  const l = r.race_limited;
  rows.push({
    figure: `race under Telegram's limits: ${l.users} users, ${l.seats} seats`,
    value: `${l.answered} answered, ${l.untold} winners untold, ${l.overbooked} overbooked, ${l.n429} × 429, in order: ${l.in_order ? "yes" : "no"}`,
    target: "all answered, 0 untold, 0 overbooked, in order",
    met: l.answered === l.users && l.untold === 0 && l.overbooked === 0 && l.in_order,
  });
  rows.push({ figure: "race under limits: opening → last answer", value: ms(l.last_answer_ms) });
}
if (r.broadcast) {
  rows.push({ figure: `broadcast to ${r.broadcast.users} users, no rate limit`, value: `${r.broadcast.messages_per_s} msg/s` });
  const l = r.broadcast.rate_limited;
  if (l) {
    rows.push({
      figure: `broadcast under a 429 limit (${l.users} users)`,
      value: `${l.http_429} × 429, ${l.retried_429} retried, ${l.delivered_once}/${l.users} got exactly one`,
      target: "no 429 unhandled",
      met: l.unhandled_429 === 0 && l.delivered_once === l.users,
    });
  }
}
rows.push({ figure: `bot RSS (${r.rss_mb.bot_users ?? "?"} users)`, value: r.rss_mb.bot === null ? "—" : `${r.rss_mb.bot} MB (peak ${r.rss_mb.bot_peak} MB)` });
rows.push({ figure: "client RSS (watching / after a booking)", value: r.rss_mb.client === null ? `— ${r.rss_mb.client_error ?? ""}` : `${r.rss_mb.client_watching} MB / ${r.rss_mb.client} MB (peak ${r.rss_mb.client_peak} MB)` });

rows.push(...overNetworkRows(overNetwork));
const svg = `Over a simulated network: ${quick ? "bun run bench --quick" : "bun run bench"}, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}`;
if (!smoke && writeBenchSvg(overNetwork, join(import.meta.dir, "..", "docs", "bench.svg"), svg)) progress("wrote docs/bench.svg");

const text = `${table(rows)}\n\n${smoke ? "bun run bench --smoke" : quick ? "bun run bench --quick" : "bun run bench"}: ${result.duration_s} s on ${result.machine.cpus} × ${result.machine.cpu}, bun ${result.machine.bun}`;
if (asJson) {
  process.stderr.write(text + "\n");
  process.stdout.write(JSON.stringify(result) + "\n");
} else {
  console.log(text);
}
for (const [name, e] of Object.entries(errors)) process.stderr.write(`\n${name} failed:\n${e}\n`);
process.exit(Object.keys(errors).length ? 1 : 0);
