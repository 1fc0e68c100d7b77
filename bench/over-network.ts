// The benchmark's figures over a simulated network (issue 11): e2e against the protocol's limit
// at several round trips, clock agreement, race ranks; their rows in the table and docs/bench.svg.

import { writeFileSync } from "node:fs";
import { benchClock, type ClockResult } from "./clock.ts";
import { benchNetwork, type NetworkSetting } from "./network.ts";
import { benchRaceRank, type RaceRankResult } from "./race-rank.ts";
import { ms, pct, type Row } from "./report.ts";
import { benchSvg } from "./svg.ts";

export interface OverNetwork {
  network: NetworkSetting[] | null;
  clock_error_ms: ClockResult | null;
  race_rank: RaceRankResult | null;
}

const SIZES = {
  quick: { bookings: 2, clockRuns: 4, races: 1, raceUsers: 300 },
  full: { bookings: 6, clockRuns: 12, races: 2, raceUsers: 2000 },
};
export const NETWORK_SETTINGS = { rtts: [0, 30, 100], botApiDelayMs: 20, clock: { rttMs: 100, jitterMs: 20, skewMs: 1500 }, race: { rttMs: 60, jitterMs: 10, pollers: 3, seats: 3 } };
const TARGET = { ratio: 1.1, clockP99: 10 };

type Part = <T>(name: string, run: () => Promise<T>) => Promise<T | undefined>;

export async function benchOverNetwork(quick: boolean, part: Part): Promise<OverNetwork> {
  const n = quick ? SIZES.quick : SIZES.full;
  const S = NETWORK_SETTINGS;
  const network = await part("e2e over the network", () => benchNetwork({ rtts: S.rtts, botApiDelayMs: S.botApiDelayMs, bookings: n.bookings }));
  const clock = await part("clock agreement", () => benchClock({ runs: n.clockRuns, ...S.clock }));
  const race = await part("race ranks", () => benchRaceRank({ races: n.races, users: n.raceUsers, ...S.race }));
  return { network: network ?? null, clock_error_ms: clock ?? null, race_rank: race ?? null };
}

const ranks = (xs: (number | null)[]) => xs.map((r) => (r === null ? "none" : `#${r}`)).join(", ");

export function overNetworkRows(r: OverNetwork): Row[] {
  const rows: Row[] = [];
  for (const s of r.network ?? []) {
    rows.push({
      figure: `e2e at RTT ${s.rtt_ms} ms (+${s.bot_api_delay_ms} ms each way bot↔API): limit ${ms(s.limit_ms)}`,
      value: `ours p50 ${ms(s.ours_e2e_ms.p50)} = ${s.ours_ratio}×, baseline ${ms(s.baseline_e2e_ms.p50)} = ${s.baseline_ratio}×`,
      target: `ours ≤ ${TARGET.ratio}× limit`,
      met: s.ours_ratio <= TARGET.ratio && s.ours_failed === 0,
    });
  }
  const c = r.clock_error_ms;
  if (c) {
    rows.push({
      figure: `clock: T+0 request's arrival − T, skew +${c.skew_ms} ms, RTT ${c.rtt_ms} ± ${c.jitter_ms} ms (n=${c.n})`,
      value: `|error| ${pct(c)}; mean ${c.mean_ms > 0 ? "+" : ""}${c.mean_ms} ms${c.missed + c.not_ready ? `; ${c.missed} missed, ${c.not_ready} not ready` : ""}`,
      target: `p99 ≤ ${TARGET.clockP99} ms`,
      met: c.n > 0 && c.p99 <= TARGET.clockP99,
    });
  }
  const rr = r.race_rank;
  if (rr) {
    const settings = `${rr.users} users at ${rr.broadcast_per_s}/s, ${rr.pollers} pollers, ${rr.seats} seats, RTT ${rr.rtt_ms} ms`;
    const at = rr.races.map((x) => (x.scheduled_ms === null ? "—" : `+${Math.round(x.scheduled_ms)} ms`)).join(", ");
    rows.push({ figure: `race (${settings}): scheduled, seat`, value: `${ranks(rr.scheduled)} (${at})`, target: "#1 every race", met: rr.scheduled.every((x) => x === 1) });
    const heard = rr.races.map((x) => `+${(x.our_announcement_ms / 1000).toFixed(1)} s`).join(", ");
    const soldOut = rr.races.map((x) => (x.sold_out_ms === null ? "—" : `+${(x.sold_out_ms / 1000).toFixed(1)} s`)).join(", ");
    rows.push({ figure: "race: immediate, seat (the broadcast reaches it / sold out)", value: `${ranks(rr.immediate)} (${heard} / ${soldOut})` });
  }
  return rows;
}

export function writeBenchSvg(r: OverNetwork, path: string, title: string): boolean {
  if (!r.network?.length) return false;
  const rr = r.race_rank;
  const races = rr ? { ...rr, scheduled_ms: rr.races.map((x) => x.scheduled_ms) } : null;
  writeFileSync(path, benchSvg(r.network, races, title));
  return true;
}

// `bun bench/over-network.ts [--quick]`: only these figures (the table, then the JSON), and docs/bench.svg.
if (import.meta.main) {
  const { join } = await import("node:path");
  const { table } = await import("./report.ts");
  const { progress } = await import("./stats.ts");
  const quick = process.argv.includes("--quick");
  const part: Part = async (name, run) => {
    progress(`${name}…`);
    try {
      return await run();
    } catch (e) {
      progress(`${name} FAILED: ${(e as Error).stack}`);
      return undefined;
    }
  };
  const r = await benchOverNetwork(quick, part);
  writeBenchSvg(r, join(import.meta.dir, "..", "docs", "bench.svg"), `Over a simulated network: bun bench/over-network.ts${quick ? " --quick" : ""}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(table(overNetworkRows(r)));
  console.log(JSON.stringify(r));
  process.exit(0); // the races' crowds still wait on timers
}
