// 200 people race for one transport through the sandbox's Bot API: exactly its seats are sold,
// and everyone is answered, with `Забронировано` or `Мест нет`.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { ACTION, parseAction } from "../../lib/bot/keyboards.ts";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { inlineButtons, type Human } from "../../sandbox/human.ts";
import { startHarness, type Harness } from "../helpers/bot-harness.ts";

const USERS = 200;
let h: Harness;

beforeAll(async () => {
  // Opened at start-up: the day's time has passed (nobody is known yet, so nothing to announce).
  h = await startHarness({ BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false" });
});
afterAll(async () => {
  await h?.close();
});

test(`${USERS} users race for the same transport`, async () => {
  const people: Human[] = Array.from({ length: USERS }, (_, i) => h.human(`Racer ${i}`));
  // Everyone opens the menu and selects the same transport first, as a client would ahead of time.
  await Promise.all(
    people.map(async (u) => {
      const menu = u.waitFor(TEXT.menuOpen, { timeoutMs: 20_000 });
      u.send("/start");
      const m = await menu;
      expect(inlineButtons(m).map((b) => b.text)).not.toContain(BUTTON.test); // test mode off
      const prompt = u.waitFor((x) => inlineButtons(x).some((b) => b.text === BUTTON.confirm), { timeoutMs: 20_000 });
      await u.press("Курган"); // Челябинск → Курган, 2 seats
      await prompt;
    }),
  );
  const transport = h.query<{ id: number; seats: number }>("SELECT * FROM transports WHERE to_city = 'Курган'")[0]!;
  expect(transport.seats).toBe(2);

  const asked = new Map<string, number>();
  const answerMs: number[] = [];
  const unobserve = h.sb.world.observe((e) => {
    if (e.type === "callbackQuery") asked.set(e.query.id, e.ts);
    else if (e.type === "callbackAnswer" && asked.has(e.query.id)) answerMs.push(e.ts - asked.get(e.query.id)!);
  });
  const t0 = performance.now();
  const outcomes = await Promise.all(
    people.map(async (u) => {
      const result = u.waitFor((m) => m.text.includes(RECOGNISE.booked) || m.text.includes(RECOGNISE.soldOut), { timeoutMs: 20_000 });
      const answer = await u.press(BUTTON.confirm);
      expect(answer.timeout).toBeUndefined();
      return (await result).text;
    }),
  );
  const ms = performance.now() - t0;
  unobserve();
  answerMs.sort((a, b) => a - b);
  console.log(`callback answered after: p50 ${answerMs[answerMs.length >> 1]!.toFixed(2)} ms, max ${answerMs.at(-1)!.toFixed(2)} ms (n=${answerMs.length})`);
  expect(answerMs).toHaveLength(USERS);
  const booked = outcomes.filter((t) => t.includes(RECOGNISE.booked));
  const soldOut = outcomes.filter((t) => t.includes(RECOGNISE.soldOut));
  console.log(`race: ${USERS} confirms answered in ${ms.toFixed(0)} ms → ${((USERS / ms) * 1000).toFixed(0)} booking attempts/s`);
  expect(booked).toHaveLength(transport.seats);
  expect(soldOut).toHaveLength(USERS - transport.seats);
  const row = h.query<{ booked: number; n: number }>("SELECT booked, (SELECT COUNT(*) FROM bookings WHERE transport_id = ?) AS n FROM transports WHERE id = ?", transport.id, transport.id)[0];
  expect(row).toEqual({ booked: transport.seats, n: transport.seats });
  // everyone else can still see the other transports; the sold-out one is gone from the menu
  const late = people[0]!;
  const menu = late.waitFor(TEXT.menuOpen);
  late.send("/start");
  const data = inlineButtons(await menu).map((b) => b.callback_data);
  expect(data).not.toContain(ACTION.select.pack({ id: transport.id }));
  expect(data.filter((d) => parseAction(d)?.kind === "select").length).toBeGreaterThan(5);
}, 60_000);
