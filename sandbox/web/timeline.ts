// The last opening of a bot as a timeline: when the announcement reached each user, what each one
// sent and pressed, and who got a seat. Pure: built from trace records, for the watch view.

import type { TraceRecord, WatchTexts } from "./protocol.ts";

/** Announcements further apart than this belong to different openings. */
const BURST_GAP_MS = 10_000;

export interface TimelineRow {
  userId: number;
  /** ms after the opening's first announcement when it reached this user's app (sent, for a web user). */
  announcedAt?: number;
  actions: { at: number; what: string }[];
  /** The bot's last booking verdict for this user: "Забронировано…" or "Мест нет…". */
  result?: { at: number; text: string; booked: boolean };
}

export interface Opening {
  /** Server performance.now() of the first announcement. */
  t0: number;
  rows: TimelineRow[];
}

export function lastOpening(records: readonly TraceRecord[], botId: number, texts: WatchTexts): Opening | undefined {
  const announcements = records.filter(
    (r) => r.kind === "botMessage" && r.botId === botId && r.message.text.includes(texts.announcement),
  );
  if (!announcements.length) return undefined;
  let first = announcements.length - 1;
  while (first > 0 && announcements[first]!.ts - announcements[first - 1]!.ts <= BURST_GAP_MS) first--;
  const t0 = announcements[first]!.ts;

  const rows = new Map<number, TimelineRow>();
  const row = (userId: number) => {
    let r = rows.get(userId);
    if (!r) rows.set(userId, (r = { userId, actions: [] }));
    return r;
  };
  const announced = new Set<string>();
  for (const r of records) {
    if (r.ts < t0) continue;
    const at = r.ts - t0;
    if (r.kind === "push") {
      const target = rows.get(r.userId);
      if (target && announced.has(`${r.userId}:${r.messageId}`)) {
        announced.delete(`${r.userId}:${r.messageId}`); // the first push is when it arrived
        target.announcedAt = at;
      }
      continue;
    }
    if (r.botId !== botId) continue;
    if (r.kind === "press") {
      row(r.userId).actions.push({ at, what: r.label });
      continue;
    }
    const m = r.message;
    if (r.kind === "userMessage") row(m.userId).actions.push({ at, what: m.text });
    else if (r.kind === "botMessage" && m.text.includes(texts.announcement)) {
      row(m.userId).announcedAt = at;
      announced.add(`${m.userId}:${m.id}`);
    } else if (m.text.includes(texts.booked) || m.text.includes(texts.soldOut)) {
      row(m.userId).result = { at, text: m.text, booked: m.text.includes(texts.booked) };
    }
  }
  return { t0, rows: [...rows.values()].sort(byOutcome) };
}

/** Winners first in the order they won, then everyone else in the order the announcement reached them. */
function byOutcome(a: TimelineRow, b: TimelineRow): number {
  const wonA = a.result?.booked ? a.result.at : Infinity;
  const wonB = b.result?.booked ? b.result.at : Infinity;
  if (wonA !== wonB) return wonA - wonB;
  return (a.announcedAt ?? Infinity) - (b.announcedAt ?? Infinity) || a.userId - b.userId;
}
