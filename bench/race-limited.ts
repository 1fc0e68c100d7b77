// The race under Telegram's limits (issue 9): the sandbox enforces ~30 messages/s per bot and
// ~1/s per chat (429 above), the bot runs with its default pacing. At the opening every user
// sends /start, presses the route and confirms, as fast as the bot's messages let them.
// Reported: who got an answer, whether every winner was told, whether seats went in the order the
// bot received the confirmations, and the 429s the bot earned.

import { Database } from "bun:sqlite";
import { parseAction } from "../lib/bot/keyboards.ts";
import { BUTTON, RECOGNISE, TEXT } from "../lib/ui.ts";
import { Human, inlineButtons } from "../sandbox/human.ts";
import { BENCH_BOT, startRig } from "./rig.ts";
import { progress, until } from "./stats.ts";

export interface RaceLimitedResult {
  users: number;
  seats: number;
  answered: number;
  untold: number;
  overbooked: number;
  n429: number;
  last_answer_ms: number;
  in_order: boolean;
}

const ROUTE = { from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30" };

export async function benchRaceLimited(users = 1000, seats = 10): Promise<RaceLimitedResult> {
  const rig = await startRig({
    env: { BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false" },
    sandbox: { rateLimit: true },
    limits: {},
    transports: [{ ...ROUTE, seats }],
    onLog: process.env.DEBUG_429 ? (a, d) => a === "send_rate_limited" && console.error(JSON.stringify(d)) : undefined,
  });
  try {
    const people = Array.from({ length: users }, (_, i) => Human.create(rig.sb.world, BENCH_BOT.username, { first_name: `Racer ${i}` }));
    const confirmOrder: number[] = [];
    const off = rig.sb.world.observe((e) => {
      if (e.type === "callbackQuery" && parseAction(e.query.data)?.kind === "confirm") confirmOrder.push(e.query.userId);
    });
    const t0 = performance.now();
    let lastAnswer = 0;
    const WAIT = { timeoutMs: 300_000 };
    /** Whether the user's last action was answered: a menu with nothing left, or the confirm's result. */
    const race = async (h: Human): Promise<boolean> => {
      try {
        const menu = h.waitFor((m) => m.text === TEXT.menuOpen || m.text === TEXT.menuNothingLeft, WAIT);
        h.send("/start");
        const m = await menu;
        lastAnswer = Math.max(lastAnswer, performance.now() - t0);
        if (!inlineButtons(m).some((b) => b.text.includes(ROUTE.to_city))) return true;
        const prompt = h.waitFor((x) => inlineButtons(x).some((b) => b.text === BUTTON.confirm) || x.text.includes(RECOGNISE.soldOut), WAIT);
        await h.press(ROUTE.to_city, m.id);
        const p = await prompt;
        if (!inlineButtons(p).some((b) => b.text === BUTTON.confirm)) return true;
        const answer = await h.press(BUTTON.confirm, p.id);
        lastAnswer = Math.max(lastAnswer, performance.now() - t0);
        return !!answer.text && (answer.text.includes(RECOGNISE.booked) || answer.text.includes(RECOGNISE.soldOut));
      } catch {
        return false;
      }
    };
    progress(`race under Telegram's limits: ${users} users, ${seats} seats`);
    const answered = (await Promise.all(people.map(race))).filter(Boolean).length;
    off();
    const db = new Database(rig.bot.config.DB_PATH, { readonly: true });
    const sold = db.query<{ user_id: number }, []>("SELECT user_id FROM bookings ORDER BY id").all().map((r) => r.user_id);
    db.close();
    const winners = people.filter((h) => sold.includes(h.userId));
    const told = () => winners.filter((h) => h.history().some((m) => m.text.includes(RECOGNISE.booked))).length;
    await until(() => told() === winners.length, 60_000, "every winner's message").catch(() => {});
    return {
      users,
      seats,
      answered,
      untold: winners.length - told(),
      overbooked: Math.max(0, sold.length - seats),
      n429: rig.bot.sender.counts.n429,
      last_answer_ms: Math.round(lastAnswer),
      in_order: sold.join() === [...new Set(confirmOrder)].slice(0, seats).join(),
    };
  } finally {
    await rig.close();
  }
}

if (import.meta.main) console.log(await benchRaceLimited(Number(process.argv[2] ?? 1000)));
