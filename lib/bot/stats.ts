// Admin reports: arithmetic over rows from the database, rendered with lib/ui.ts texts.

import type { BotDb, NamedRun } from "../db.ts";
import { BOT_TEXT } from "../ui.ts";

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const r = Math.round;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Summary of finished test runs; best users ranked by their own best total. */
export function summariseTestRuns(runs: readonly NamedRun[], topN = 5) {
  const done = runs.filter((x) => x.total_ms !== null);
  if (!done.length) return null;
  const totals = done.map((x) => x.total_ms!);
  const stage = (name: "smsToStart" | "startToSelect" | "selectToConfirm", pick: (x: NamedRun) => number | null) => {
    const v = done.map(pick).filter((x) => x !== null);
    return { name, median: r(median(v)), mean: r(v.length ? mean(v) : NaN) };
  };
  const bestByUser = new Map<number, { name: string; ms: number }>();
  for (const x of done) {
    const prev = bestByUser.get(x.user_id);
    if (prev && prev.ms <= x.total_ms!) continue;
    const name = x.first_name ? (x.username ? `${x.first_name} (@${x.username})` : x.first_name) : String(x.user_id);
    bestByUser.set(x.user_id, { name, ms: x.total_ms! });
  }
  return {
    count: done.length,
    total: { best: r(Math.min(...totals)), median: r(median(totals)), mean: r(mean(totals)) },
    stages: [
      stage("smsToStart", (x) => x.sms_to_start_ms),
      stage("startToSelect", (x) => x.start_to_select_ms),
      stage("selectToConfirm", (x) => x.select_to_confirm_ms),
    ],
    best: [...bestByUser.values()].sort((a, b) => a.ms - b.ms).slice(0, topN).map((b) => ({ ...b, ms: r(b.ms) })),
  };
}

export function testStatsText(db: BotDb): string {
  const s = summariseTestRuns(db.doneRuns());
  return s ? BOT_TEXT.adminTestStats(s) : BOT_TEXT.adminTestStatsEmpty;
}

export function adminStatsText(db: BotDb, day: string): string {
  const s = db.dayStats(day);
  const openedAt = db.openedAt(day);
  const ann = db.announcementCounts(day);
  const since = (t: number | null) => (t === null || openedAt === undefined ? null : r(t - openedAt));
  const d = new Date(openedAt ?? 0);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return BOT_TEXT.adminStats({
    ...s,
    day,
    bookingsToday: s.bookings,
    openedAt: openedAt === undefined ? null : `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`,
    firstSoldMs: since(s.first),
    lastSoldMs: since(s.last),
    announcements: { sent: ann.sent ?? 0, pending: ann.pending ?? 0, blocked: ann.blocked ?? 0, failed: ann.failed ?? 0 },
  });
}
