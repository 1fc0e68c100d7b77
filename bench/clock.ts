// Clock agreement: the sandbox's (Telegram's) clock runs ahead of ours by `skewMs`, the client↔DC
// link has a round trip of `rttMs` ± `jitterMs` (each way: rtt/2 ± jitter/2, uniform). Each run
// is `bun client.ts --mode scheduled` with target_time a whole second T on the sandbox's clock
// (UTC); the figure is when its T+0 request (the /start it fires at the instant) reaches the
// sandbox, on the sandbox's clock, minus T. No bot runs: the request's arrival is all we time.
// Runs go in batches started together, their T's a second apart after the batch's start-up.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Child } from "../demo/procs.ts";
import { startSandbox } from "../sandbox/index.ts";
import { NET_BOT, spawnClient } from "./net-stack.ts";
import { progress, round, sleep, summarise, until, type Pct } from "./stats.ts";

export interface ClockResult extends Pct {
  rtt_ms: number;
  jitter_ms: number;
  skew_ms: number;
  /** runs whose T+0 request never arrived */
  missed: number;
  /** runs left out because the client was not watching by T (start-up on a busy machine) */
  not_ready: number;
  /** mean of the signed errors: + is late */
  mean_ms: number;
  /** every run's signed error, ms, in run order */
  samples_ms: number[];
}

/** The first T+0 request must come after the warm-up /start, which the client sends ≥ 1 s ahead. */
const WARM_UP_GAP_MS = 900;
/** A batch's first T is this far ahead: time for its clients to start, log in, sync their clocks and watch. */
const START_AHEAD_MS = 12_000;
/** Clients started together. */
const BATCH = 4;

const hhmmssUtc = (ms: number) => new Date(ms).toISOString().slice(11, 19);

export async function benchClock(o: { runs: number; rttMs: number; jitterMs: number; skewMs: number }): Promise<ClockResult> {
  const sb = await startSandbox({
    botApiPort: 0,
    mtprotoPort: 0,
    bots: [NET_BOT],
    clockSkewMs: o.skewMs,
    mtprotoDelay: { delayMs: o.rttMs / 2, jitterMs: o.jitterMs / 2 },
  });
  const dir = mkdtempSync(join(tmpdir(), "aprel-clock-"));
  const serverNow = () => Date.now() + o.skewMs;
  const targets = new Map<number, number>(); // userId → T on the sandbox's clock
  const arrivals = new Map<number, number>();
  const ready = new Set<number>(); // users whose client was watching well before its T
  const stopObserving = sb.world.observe((e) => {
    if (e.type !== "userMessage" || e.message.text !== "/start") return;
    const t = targets.get(e.message.userId);
    const at = performance.timeOrigin + e.ts + o.skewMs;
    if (t !== undefined && !arrivals.has(e.message.userId) && at > t - WARM_UP_GAP_MS) arrivals.set(e.message.userId, at);
  });
  const clients: Child[] = [];
  try {
    // Batches of clients start together; their T's follow each other a second apart once all of
    // them can be watching, so that no client's start-up competes with another's firing.
    for (let done = 0; done < o.runs; done += BATCH) {
      const n = Math.min(BATCH, o.runs - done);
      progress(`clock: runs ${done + 1}-${done + n} of ${o.runs} (skew ${o.skewMs} ms, rtt ${o.rttMs} ± ${o.jitterMs} ms)`);
      const first = Math.ceil((serverNow() + START_AHEAD_MS) / 1000) * 1000;
      const batch: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = first + i * 1000;
        const phone = `+7999200${String(done + i).padStart(4, "0")}`;
        const userId = sb.world.userForPhone(phone).id;
        targets.set(userId, t);
        batch.push(userId);
        const c = spawnClient(sb, dir, phone, ["--mode", "scheduled"], { cities: [["Екатеринбург"]], targetTime: hhmmssUtc(t), timezone: "UTC" });
        clients.push(c);
        c.waitFor(/^watching/, START_AHEAD_MS + n * 1000).then(
          () => serverNow() < t - WARM_UP_GAP_MS && ready.add(userId),
          () => {},
        );
      }
      const last = first + (n - 1) * 1000;
      // Each client has done its part once its T+0 request is in (no bot answers it).
      await until(() => batch.every((u) => arrivals.has(u)) || serverNow() > last + 3000, START_AHEAD_MS + n * 1000 + 5000, "").catch(() => {});
      await Promise.all(clients.splice(0).map((c) => c.stop()));
    }
  } finally {
    stopObserving();
    await Promise.all(clients.map((c) => c.stop()));
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const errors: number[] = [];
  let missed = 0;
  let notReady = 0;
  for (const [userId, t] of targets) {
    const at = arrivals.get(userId);
    if (!ready.has(userId)) notReady++;
    else if (at === undefined) missed++;
    else errors.push(at - t);
  }
  return {
    ...summarise(errors.map(Math.abs)),
    rtt_ms: o.rttMs,
    jitter_ms: o.jitterMs,
    skew_ms: o.skewMs,
    missed,
    not_ready: notReady,
    mean_ms: round(errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length), 1),
    samples_ms: errors.map((e) => round(e, 1)),
  };
}

if (import.meta.main) {
  console.log(await benchClock({ runs: Number(process.argv[2] ?? 5), rttMs: 100, jitterMs: 20, skewMs: 1500 }));
}
