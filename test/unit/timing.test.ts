import { describe, expect, test } from "bun:test";
import {
  MAX_TIMER_DELAY_MS,
  formatCountdown,
  dateIn,
  nextDailyInstant,
  nowMs,
  parseDailyTime,
  preciseAt,
  sleepUntil,
  systemTimeZone,
  zonedInstant,
} from "../../lib/timing.ts";

/**
 * A deterministic event loop: timers fire `earlyMs` before their (truncated) due time, like
 * Bun's; every clock read costs `readCostMs`, so a busy-wait terminates; a yield costs `yieldCostMs`.
 */
class FakeLoop {
  t: number;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; id: number }[] = [];
  delays: number[] = [];
  reads = 0;
  constructor(
    start: number,
    readonly opts: { earlyMs?: number; lateMs?: number; readCostMs?: number; yieldCostMs?: number } = {},
  ) {
    this.t = start;
  }
  now = () => {
    this.reads++;
    this.t += this.opts.readCostMs ?? 0.001;
    return this.t;
  };
  setTimeout = (fn: () => void, ms: number) => {
    this.delays.push(ms);
    const id = ++this.seq;
    const due = this.t + Math.trunc(ms) - (this.opts.earlyMs ?? 0) + (this.opts.lateMs ?? 0);
    this.queue.push({ at: due, seq: id, fn, id });
    return id;
  };
  clearTimeout = (id: number) => {
    this.queue = this.queue.filter((q) => q.id !== id);
  };
  yieldFn = (fn: () => void) => {
    const id = ++this.seq;
    this.queue.push({ at: this.t + (this.opts.yieldCostMs ?? 0.05), seq: id, fn, id });
  };
  get pending() {
    return this.queue.length;
  }
  /** Runs everything (or until `untilT`), advancing the clock to each task's due time. */
  run(untilT = Infinity, maxTasks = 1_000_000) {
    for (let n = 0; n < maxTasks; n++) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > untilT) return;
      this.queue.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    throw new Error("FakeLoop: too many tasks");
  }
  options() {
    return { now: this.now, setTimeout: this.setTimeout, clearTimeout: this.clearTimeout, yieldFn: this.yieldFn };
  }
}

describe("preciseAt with an injected clock and timers", () => {
  test("never fires before the instant, even when timers fire early", () => {
    for (const earlyMs of [0, 0.5, 1, 2]) {
      for (const offset of [0.3, 1, 3.7, 5, 10.25, 999.9, 60_000.123]) {
        const loop = new FakeLoop(1_000_000.0, { earlyMs });
        const target = loop.t + offset;
        let firedAt: number | undefined;
        preciseAt(target, () => (firedAt = loop.t), loop.options());
        loop.run();
        expect(firedAt).toBeDefined();
        expect(firedAt!).toBeGreaterThanOrEqual(target);
        // With an idle loop it fires within a few clock reads of the instant.
        expect(firedAt! - target).toBeLessThan(0.01);
      }
    }
  });

  test("sleeps with timers until the spin window, then watches the clock", () => {
    const loop = new FakeLoop(0);
    let fired = false;
    preciseAt(10_000, () => (fired = true), loop.options());
    loop.run(9_995);
    expect(fired).toBe(false);
    expect(loop.delays).toEqual([9_995]); // one timer up to 4-5 ms before
    loop.run();
    expect(fired).toBe(true);
  });

  test("a late timer (busy host) fires late but once", () => {
    const loop = new FakeLoop(0, { lateMs: 7 });
    let calls = 0;
    let firedAt = 0;
    preciseAt(100, () => {
      calls++;
      firedAt = loop.t;
    }, loop.options());
    loop.run();
    expect(calls).toBe(1);
    expect(firedAt).toBeGreaterThanOrEqual(100);
    expect(loop.pending).toBe(0);
  });

  test("a past instant fires on the next tick, not synchronously", () => {
    const loop = new FakeLoop(500);
    let fired = false;
    preciseAt(100, () => (fired = true), loop.options());
    expect(fired).toBe(false);
    loop.run();
    expect(fired).toBe(true);
  });

  test("cancel before the timer and during the spin window", () => {
    const loop = new FakeLoop(0);
    let fired = 0;
    preciseAt(1_000, () => fired++, loop.options()).cancel();
    loop.run();
    expect(fired).toBe(0);

    const loop2 = new FakeLoop(0, { yieldCostMs: 0.5 });
    const h = preciseAt(1_000, () => fired++, loop2.options());
    loop2.run(997.5); // inside the spin window, yielding
    expect(loop2.pending).toBeGreaterThan(0);
    h.cancel();
    loop2.run();
    expect(fired).toBe(0);
  });

  test("delays beyond 2^31-1 ms are chunked", () => {
    const loop = new FakeLoop(0, { readCostMs: 0 });
    const target = 40 * 86_400_000 + 0.5; // 40 days
    let firedAt: number | undefined;
    let reads = 0;
    const now = () => {
      // the busy-wait needs a moving clock
      if (++reads % 2 === 0) loop.t += 0.001;
      return loop.t;
    };
    preciseAt(target, () => (firedAt = loop.t), { ...loop.options(), now });
    loop.run();
    expect(Math.max(...loop.delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(loop.delays.length).toBeGreaterThan(1);
    expect(firedAt!).toBeGreaterThanOrEqual(target);
    expect(firedAt! - target).toBeLessThan(0.01);
  });

  test("sleepUntil resolves with its lateness, and rejects when aborted", async () => {
    const loop = new FakeLoop(0);
    const p = sleepUntil(50, undefined, loop.options());
    loop.run();
    const late = await p;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(0.01);

    const loop2 = new FakeLoop(0);
    const ac = new AbortController();
    const p2 = sleepUntil(50, ac.signal, loop2.options());
    loop2.run(20);
    ac.abort(new Error("stop"));
    loop2.run();
    await expect(p2).rejects.toThrow("stop");

    const aborted = AbortSignal.abort(new Error("already"));
    await expect(sleepUntil(50, aborted, new FakeLoop(0).options())).rejects.toThrow("already");
  });
});

describe("preciseAt with real timers (loose bounds: the machine is noisy)", () => {
  test("fires at or after the instant, not wildly late", async () => {
    const target = nowMs() + 30;
    const firedAt = await new Promise<number>((resolve) => preciseAt(target, () => resolve(nowMs())));
    expect(firedAt).toBeGreaterThanOrEqual(target);
    expect(firedAt - target).toBeLessThan(250);
    const late = await sleepUntil(nowMs() + 5);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(250);
  });

  test("nowMs tracks the wall clock and is monotonic", () => {
    expect(Math.abs(nowMs() - Date.now())).toBeLessThan(1_000);
    let prev = nowMs();
    for (let i = 0; i < 1_000; i++) {
      const n = nowMs();
      expect(n).toBeGreaterThanOrEqual(prev);
      prev = n;
    }
  });
});

describe("daily instants", () => {
  test("parseDailyTime accepts HH:MM and HH:MM:SS", () => {
    expect(String(parseDailyTime("11:30"))).toBe("11:30:00");
    expect(String(parseDailyTime("00:00:59"))).toBe("00:00:59");
    expect(String(parseDailyTime(" 23:59:00 "))).toBe("23:59:00");
  });

  test("parseDailyTime names the expected format on bad input", () => {
    for (const bad of ["25:00", "11:3", "abc", "", "11:60", "11:30:60", "1130", "11:30:00:00", "-1:30", "T11:30", "11:30:00.5", "113000"]) {
      expect(() => parseDailyTime(bad)).toThrow(/expected "HH:MM" or "HH:MM:SS"/);
    }
  });

  const at = (iso: string) => Date.parse(iso);
  const t1130 = parseDailyTime("11:30:00");

  test("Asia/Yekaterinburg (UTC+5, Челябинск's zone)", () => {
    const tz = "Asia/Yekaterinburg";
    expect(zonedInstant(Temporal.PlainDate.from("2025-06-10"), parseDailyTime("05:00"), tz)).toBe(at("2025-06-10T00:00:00Z")); // UTC+5
    expect(nextDailyInstant(t1130, at("2025-06-10T05:00:00Z"), tz)).toBe(at("2025-06-10T06:30:00Z"));
    expect(nextDailyInstant(t1130, at("2025-06-10T06:30:00Z"), tz)).toBe(at("2025-06-10T06:30:00Z")); // at = now counts
    expect(nextDailyInstant(t1130, at("2025-06-10T06:30:00.001Z"), tz)).toBe(at("2025-06-11T06:30:00Z"));
    // today's opening already happened (the bot resuming after a restart)
    expect(zonedInstant(dateIn(at("2025-06-10T09:00:00Z"), tz), t1130, tz)).toBe(at("2025-06-10T06:30:00Z"));
    // 20:00Z is already the 11th in Yekaterinburg
    expect(zonedInstant(dateIn(at("2025-06-10T20:00:00Z"), tz), t1130, tz)).toBe(at("2025-06-11T06:30:00Z"));
  });

  test("UTC, across month and year ends", () => {
    expect(nextDailyInstant(t1130, at("2025-12-31T23:00:00Z"), "UTC")).toBe(at("2026-01-01T11:30:00Z"));
    expect(nextDailyInstant(t1130, at("2024-02-28T12:00:00Z"), "UTC")).toBe(at("2024-02-29T11:30:00Z"));
    expect(zonedInstant(dateIn(at("2025-03-01T15:00:00Z"), "UTC"), parseDailyTime("00:00"), "UTC")).toBe(at("2025-03-01T00:00:00Z"));
  });

  test("Europe/Berlin across DST changes", () => {
    const tz = "Europe/Berlin";
    // spring forward 2025-03-30 02:00 CET -> 03:00 CEST
    expect(nextDailyInstant(t1130, at("2025-03-29T12:00:00Z"), tz)).toBe(at("2025-03-30T09:30:00Z"));
    expect(zonedInstant(dateIn(at("2025-03-29T12:00:00Z"), tz), t1130, tz)).toBe(at("2025-03-29T10:30:00Z"));
    // 02:30 does not exist that night: it is taken as 03:30 CEST
    expect(zonedInstant(Temporal.PlainDate.from("2025-03-30"), parseDailyTime("02:30"), tz)).toBe(at("2025-03-30T01:30:00Z"));
    // fall back 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 happens twice, the first is used
    expect(zonedInstant(Temporal.PlainDate.from("2025-10-26"), parseDailyTime("02:30"), tz)).toBe(at("2025-10-26T00:30:00Z"));
    expect(nextDailyInstant(t1130, at("2025-10-25T12:00:00Z"), tz)).toBe(at("2025-10-26T10:30:00Z"));
    // 24 hours after Saturday's 11:30 is not Sunday's 11:30
    expect(at("2025-10-26T10:30:00Z") - at("2025-10-25T09:30:00Z")).toBe(25 * 3_600_000);
  });

  test("America/New_York (negative offset) and the system default zone", () => {
    expect(nextDailyInstant(parseDailyTime("23:00"), at("2025-07-01T12:00:00Z"), "America/New_York")).toBe(at("2025-07-02T03:00:00Z"));
    const from = at("2025-07-01T12:00:00Z");
    expect(nextDailyInstant(t1130, from)).toBe(nextDailyInstant(t1130, from, systemTimeZone()));
  });

  test("fractional 'from' instants", () => {
    const from = at("2025-06-10T06:29:59Z") + 999.5;
    expect(nextDailyInstant(t1130, from, "Asia/Yekaterinburg")).toBe(at("2025-06-10T06:30:00Z"));
  });
});

test("formatCountdown", () => {
  expect(formatCountdown(3_723_000)).toBe("01:02:03");
  expect(formatCountdown(0)).toBe("00:00:00");
  expect(formatCountdown(-5_000)).toBe("00:00:00");
  expect(formatCountdown(1)).toBe("00:00:01"); // rounds up: zero only when the time has come
  expect(formatCountdown(59_999)).toBe("00:01:00");
  expect(formatCountdown(100 * 3_600_000)).toBe("100:00:00");
});
