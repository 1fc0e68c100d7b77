// Per-update handling time (the synchronous part: parsing, SQL, building the reply), kept as a
// bounded sample so a long-running bot can report percentiles without growing.

import { percentileOfSorted } from "../percentile.ts";

export interface TimingSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class UpdateMetrics {
  private samples: number[] = [];
  private n = 0;

  constructor(private readonly capacity = 20_000) {}

  record(ms: number): void {
    this.n++;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.n % this.capacity] = ms;
  }

  summary(): TimingSummary {
    const s = [...this.samples].sort((a, b) => a - b);
    const q = (p: number) => (s.length ? percentileOfSorted(s, p * 100) : 0);
    return {
      count: this.n,
      meanMs: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: s.length ? s[s.length - 1]! : 0,
    };
  }
}
