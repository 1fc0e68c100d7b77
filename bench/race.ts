// 1000 people race for 10 seats at the opening instant. Each is a sandbox Human in this process:
// at BOOKING_TIME they all send /start, press the transport as soon as the menu shows it and
// confirm as soon as the prompt comes. The database and the callback answers are the referee.

import { Database } from "bun:sqlite";
import { preciseAt } from "../lib/timing.ts";
import { BUTTON, RECOGNISE, TEXT } from "../lib/ui.ts";
import { Human, inlineButtons } from "../sandbox/human.ts";
import type { Message } from "../sandbox/world.ts";
import { BENCH_BOT, startRig } from "./rig.ts";
import { progress, round, summarise, type Pct } from "./stats.ts";

export interface RaceResult {
  users: number;
  seats: number;
  sold: number;
  overbooked: number;
  unanswered: number;
  /** Confirm presses answered with a result, per second, first confirm press → last result. */
  bookings_per_s: number;
  /** Any press or /start → the bot's next message to that user. */
  bot_response_p99_ms: number;
  bot_response_ms: Pct;
  /** Opening instant → the last seat sold, as the bot's DB records it. */
  sold_out_after_ms: number;
  confirm_attempts: number;
  booked_messages: number;
}

const STEP_TIMEOUT_MS = 15_000;
const ROUTE = { from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30" };

/** "HH:MM:SS" (system zone) of the first whole second at least `aheadMs` from now, and that instant. */
export function bookingTimeAhead(aheadMs: number): { text: string; at: number } {
  const at = Math.ceil((Date.now() + aheadMs) / 1000) * 1000;
  const d = new Date(at);
  const p = (x: number) => String(x).padStart(2, "0");
  return { text: `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`, at };
}

/** `leadMs`: how far ahead the opening is set, time enough to start the bot and create the people. */
export async function benchRace(users = 1000, seats = 10, leadMs = 1500): Promise<RaceResult> {
  const opening = bookingTimeAhead(leadMs);
  const rig = await startRig({
    env: { BOOKING_TIME: opening.text, TEST_MODE_ENABLED: "false" },
    transports: [{ ...ROUTE, seats }],
  });
  try {
    const people = Array.from({ length: users }, (_, i) => Human.create(rig.sb.world, BENCH_BOT.username, { first_name: `Racer ${i}` }));
    const response: number[] = [];
    let unanswered = 0;
    let confirms = 0;
    let bookedMsgs = 0;
    let firstConfirm = Infinity;
    let lastResult = 0;

    /** Does `act` (which returns the press's answer, if a press) and waits for the bot's next message. */
    const step = async (h: Human, match: (m: Message) => boolean, act: () => Promise<unknown> | unknown): Promise<Message | undefined> => {
      const reply = h.waitFor(match, { timeoutMs: STEP_TIMEOUT_MS });
      const t0 = performance.now();
      const answer = act();
      try {
        const m = await reply;
        response.push(m.ts - t0);
        const a = (await answer) as { timeout?: boolean } | undefined;
        if (a?.timeout) unanswered++;
        return m;
      } catch {
        unanswered++;
        return undefined;
      }
    };
    const isMenu = (m: Message) => m.text === TEXT.menuOpen || m.text === TEXT.menuNothingLeft || m.text.includes(RECOGNISE.notOpen);
    const isPrompt = (m: Message) => inlineButtons(m).some((b) => b.text === BUTTON.confirm) || m.text === TEXT.staleButton;
    const isResult = (m: Message) => m.text.includes(RECOGNISE.booked) || m.text.includes(RECOGNISE.soldOut) || m.text.includes(RECOGNISE.alreadyBooked);

    const race = async (h: Human): Promise<void> => {
      const menu = await step(h, isMenu, () => h.send("/start"));
      if (!menu || !inlineButtons(menu).some((b) => b.text.includes(ROUTE.to_city))) return;
      const prompt = await step(h, isPrompt, () => h.press(ROUTE.to_city, menu.id));
      if (!prompt || !inlineButtons(prompt).some((b) => b.text === BUTTON.confirm)) return;
      confirms++;
      const pressedAt = performance.now();
      firstConfirm = Math.min(firstConfirm, pressedAt);
      const result = await step(h, isResult, () => h.press(BUTTON.confirm, prompt.id));
      if (result) {
        lastResult = Math.max(lastResult, result.ts);
        if (result.text.includes(RECOGNISE.booked)) bookedMsgs++;
      }
    };

    progress(`race: ${users} users, ${seats} seats, opening at ${opening.text}`);
    const done = await new Promise<Promise<void[]>>((resolve) => preciseAt(opening.at, () => resolve(Promise.all(people.map(race)))));
    await done;
    for (const p of people) p.close();

    const db = new Database(rig.bot.config.DB_PATH, { readonly: true });
    const t = db.query("SELECT id, seats, booked FROM transports WHERE day IS NOT NULL").get() as { id: number; seats: number; booked: number };
    const sales = db.query("SELECT COUNT(*) AS n, MAX(created_at) AS last FROM bookings WHERE transport_id = ?").get(t.id) as { n: number; last: number | null };
    const open = db.query("SELECT scheduled_at FROM openings").get() as { scheduled_at: number } | null;
    db.close();
    const r = summarise(response);
    return {
      users,
      seats: t.seats,
      sold: sales.n,
      overbooked: Math.max(0, sales.n - t.seats, t.booked - t.seats),
      unanswered,
      bookings_per_s: round(lastResult > firstConfirm ? (confirms / (lastResult - firstConfirm)) * 1000 : 0, 0),
      bot_response_p99_ms: r.p99,
      bot_response_ms: r,
      sold_out_after_ms: round(sales.last !== null && open ? sales.last - open.scheduled_at : NaN, 1),
      confirm_attempts: confirms,
      booked_messages: bookedMsgs,
    };
  } finally {
    await rig.close();
  }
}

if (import.meta.main) console.log(await benchRace(Number(process.argv[2] ?? 1000)));
