// The one retry helper: try, ask the policy how long to wait after a failure (or whether to give
// up), never wait past a deadline.

import { nowMs, sleepUntil } from "./timing.ts";

/** The wait before retry number `attempt` (1-based): base, 2·base, 4·base ... up to max. */
export function backoffMs(attempt: number, baseMs = 1000, maxMs = 60_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}

export interface RetryPolicy {
  /** How long to wait (ms) before trying again after `error`; undefined: not worth retrying. */
  delayFor(error: unknown, attempt: number): number | undefined;
  /** Attempts in all, the first included (default: no limit). */
  maxAttempts?: number;
  /** An instant (on `now`'s clock) that no wait may end after. */
  deadline?: number;
  now?: () => number;
  signal?: AbortSignal;
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

/** Retrying stopped: too many attempts, or the next wait would end past the deadline. */
export class RetryGaveUp extends Error {
  override name = "RetryGaveUp";
  constructor(message: string, last: unknown, readonly attempts: number, readonly why: "attempts" | "deadline") {
    super(message, { cause: last });
  }
}

/** Errors the policy does not retry are thrown as they are. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, p: RetryPolicy): Promise<T> {
  const now = p.now ?? nowMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (p.signal?.aborted) throw p.signal.reason ?? e;
      const delay = p.delayFor(e, attempt);
      if (delay === undefined) throw e;
      const why = (e as Error)?.message ?? String(e);
      if (attempt >= (p.maxAttempts ?? Infinity)) {
        throw new RetryGaveUp(`${why}; gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}`, e, attempt, "attempts");
      }
      if (p.deadline !== undefined && now() + delay > p.deadline) {
        throw new RetryGaveUp(`${why}; not retrying: the wait (${Math.round(delay)} ms) would end past the deadline`, e, attempt, "deadline");
      }
      p.onRetry?.(e, attempt, delay);
      await sleepUntil(now() + delay, p.signal, { now });
    }
  }
}
