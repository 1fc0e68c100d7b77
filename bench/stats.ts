// Percentiles (lib/percentile.ts: nearest rank) and rounding for the benchmark's figures.

import { percentile } from "../lib/percentile.ts";

export interface Pct {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export function summarise(xs: readonly number[]): Pct {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s.length ? s[s.length - 1]! : NaN), n: s.length };
}

/** Three decimals: microseconds are the resolution the figures are read at. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every few ms until true; throws with `what` after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** Progress goes to stderr so that `--json` leaves stdout to the one JSON object. */
export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
