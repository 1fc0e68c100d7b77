// Admin reports: arithmetic over rows from the database, rendered with lib/ui.ts texts.

import type { BotDb, NamedRun } from "../db.ts";
import { BOT_TEXT } from "../ui.ts";

/** Interpolated between the middle two (unlike lib/percentile.ts): the admin's figures have always been so. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const r = Math.round;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summariseTestRuns(runs: readonly NamedRun[]) {
  // Fastest first, so each user's first run is their best.
  const done = runs.filter((x) => x.total_ms !== null).sort((a, b) => a.total_ms! - b.total_ms!);
  if (!done.length) return null;
  const totals = done.map((x) => x.total_ms!);
  const stage = (name: "smsToStart" | "startToSelect" | "selectToConfirm", column: keyof NamedRun & `${string}_ms`) => {
    const v = done.map((x) => x[column] ?? 0);
    return { name, median: r(median(v)), mean: r(mean(v)) };
  };
  const best = new Map<number, { name: string; ms: number }>();
  for (const x of done) {
    const name = x.first_name ? (x.username ? `${x.first_name} (@${x.username})` : x.first_name) : String(x.user_id);
    if (!best.has(x.user_id)) best.set(x.user_id, { name, ms: r(x.total_ms!) });
  }
  return {
    count: done.length,
    total: { best: r(totals[0]!), median: r(median(totals)), mean: r(mean(totals)) },
    stages: [stage("smsToStart", "sms_to_start_ms"), stage("startToSelect", "start_to_select_ms"), stage("selectToConfirm", "select_to_confirm_ms")],
    best: [...best.values()].slice(0, 5),
  };
}

export function testStatsText(db: BotDb): string {
  const s = summariseTestRuns(db.doneRuns());
  return s ? BOT_TEXT.adminTestStats(s) : BOT_TEXT.adminTestStatsEmpty;
}

export function adminStatsText(db: BotDb, day: string): string {
  const { openedAt, first, last, ...s } = db.dayStats(day);
  const ann = db.announcementCounts(day);
  const since = (t: number | null) => (t === null || openedAt === null ? null : r(t - openedAt));
  const d = new Date(openedAt ?? 0);
  return BOT_TEXT.adminStats({
    ...s,
    day,
    openedAt: openedAt === null ? null : `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, "0")}`,
    firstSoldMs: since(first),
    lastSoldMs: since(last),
    announcements: { sent: ann.sent ?? 0, pending: ann.pending ?? 0, blocked: ann.blocked ?? 0, failed: ann.failed ?? 0 },
  });
}
