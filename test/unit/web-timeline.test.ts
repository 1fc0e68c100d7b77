// The watch view's timeline of the last opening, from trace records as the sandbox records them.

import { describe, expect, test } from "bun:test";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { SANDBOX_WATCH_TEXTS } from "../../sandbox/defaults.ts";
import type { MessageView, TraceRecord } from "../../sandbox/web/protocol.ts";
import { lastOpening } from "../../sandbox/web/timeline.ts";

const BOT = 7;
let nextId = 100;

function msg(userId: number, fromBot: boolean, text: string): MessageView {
  return { id: nextId++, userId, fromBot, text, date: 0, edited: false };
}
const bot = (ts: number, userId: number, text: string): TraceRecord => ({ kind: "botMessage", ts, botId: BOT, message: msg(userId, true, text) });
const user = (ts: number, userId: number, text: string): TraceRecord => ({ kind: "userMessage", ts, botId: BOT, message: msg(userId, false, text) });
const press = (ts: number, userId: number, label: string): TraceRecord => ({ kind: "press", ts, botId: BOT, userId, messageId: 1, label });
const route = { from_city: "Челябинск", to_city: "Магнитогорск", departure: "09:00" };

test("the sandbox's watch texts are the default bot's (lib/ui.ts), which the sandbox may not import", () => {
  expect(SANDBOX_WATCH_TEXTS).toEqual({ announcement: RECOGNISE.announcement, booked: RECOGNISE.booked, soldOut: RECOGNISE.soldOut });
});

describe("lastOpening", () => {
  test("no announcement recorded: no opening", () => {
    expect(lastOpening([user(1, 1, "/start"), bot(2, 1, TEXT.hint)], BOT, SANDBOX_WATCH_TEXTS)).toBeUndefined();
  });

  test("times are from the first announcement of the last burst; the winner comes first", () => {
    const earlier = bot(1_000, 1, TEXT.announcement); // yesterday's opening, a minute before
    const a1 = bot(61_000, 1, TEXT.announcement);
    const a2 = bot(61_004, 2, TEXT.announcement);
    const records: TraceRecord[] = [
      earlier,
      user(2_000, 1, "/start"),
      a1,
      a2,
      { kind: "push", ts: 61_010, userId: 2, messageId: a2.kind === "botMessage" ? a2.message.id : 0 },
      user(61_050, 1, "/start"),
      user(61_020, 2, "/start"),
      press(61_060, 2, "Челябинск → Магнитогорск 09:00 (мест: 1)"),
      press(61_070, 2, BUTTON.confirm),
      bot(61_080, 2, TEXT.booked(route)),
      press(61_090, 1, BUTTON.confirm),
      { kind: "botEdit", ts: 61_095, botId: BOT, message: msg(1, true, TEXT.soldOut(route)) },
      user(61_100, 3, "привет"), // someone who never got the announcement but wrote
    ];
    const o = lastOpening(records, BOT, SANDBOX_WATCH_TEXTS)!;
    expect(o.t0).toBe(61_000);
    expect(o.rows.map((r) => r.userId)).toEqual([2, 1, 3]);
    const [winner, loser] = o.rows;
    expect(winner!.announcedAt).toBe(10); // when the MTProto push went out, not when the bot sent it
    expect(winner!.actions).toEqual([
      { at: 20, what: "/start" },
      { at: 60, what: "Челябинск → Магнитогорск 09:00 (мест: 1)" },
      { at: 70, what: BUTTON.confirm },
    ]);
    expect(winner!.result).toEqual({ at: 80, text: TEXT.booked(route), booked: true });
    expect(loser!.announcedAt).toBe(0); // no push recorded: when the bot sent it
    expect(loser!.actions.map((a) => a.what)).toEqual(["/start", BUTTON.confirm]); // not yesterday's /start
    expect(loser!.result).toEqual({ at: 95, text: TEXT.soldOut(route), booked: false });
  });

  test("another bot's messages and presses are not this bot's opening", () => {
    const other: TraceRecord = { kind: "botMessage", ts: 5, botId: BOT + 1, message: msg(1, true, TEXT.announcement) };
    expect(lastOpening([other], BOT, SANDBOX_WATCH_TEXTS)).toBeUndefined();
    const elsewhere: TraceRecord = { kind: "press", ts: 2, botId: BOT + 1, userId: 1, messageId: 1, label: "x" };
    const o = lastOpening([bot(1, 1, TEXT.testAnnouncement), elsewhere], BOT, SANDBOX_WATCH_TEXTS)!;
    expect(o.rows[0]!.actions).toEqual([]);
  });
});
