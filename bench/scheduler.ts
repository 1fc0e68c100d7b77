// The precise scheduler (lib/timing.ts preciseAt) hitting instants one after another, each 5-20 ms
// after the previous plus a random fraction of a millisecond: how late does fn run?

import { nowMs, preciseAt } from "../lib/timing.ts";
import { summarise, type Pct } from "./stats.ts";

export interface SchedulerResult {
  lateness: Pct;
  /** preciseAt never fires early by contract; counted anyway. */
  early: number;
}

export async function benchScheduler(instants = 200): Promise<SchedulerResult> {
  const late: number[] = [];
  let early = 0;
  let target = nowMs() + 20;
  for (let i = 0; i < instants; i++) {
    target += 5 + Math.floor(Math.random() * 16) + Math.random();
    const t = target;
    const lateness = await new Promise<number>((resolve) => preciseAt(t, () => resolve(nowMs() - t)));
    if (lateness < 0) early++;
    late.push(lateness);
  }
  return { lateness: summarise(late), early };
}
