// BOT_UI: the simulator looks like the bots users face (issue 8 item 7), driven through the
// sandbox as a user would. `classic` (the default) is what the flow tests drive.

import { afterEach, expect, test } from "bun:test";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { inlineButtons, type Human } from "../../sandbox/human.ts";
import type { Message } from "../../sandbox/world.ts";
import { startHarness, type Harness } from "../helpers/bot-harness.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const ROUTES = [
  { from_city: "Челябинск", to_city: "Курган", departure: "07:30", seats: 1 },
  { from_city: "Челябинск", to_city: "Миасс", departure: "09:00", seats: 5 },
];
const open = (ui: string) => startHarness({ BOOKING_TIME: "00:00:00", TEST_MODE_ENABLED: "false", BOT_UI: ui }, {}, { transports: ROUTES });
const fromBot = (u: Human) => u.history().filter((m) => m.outgoingFromBot);
const replyLabels = (m: Message) => (m.replyMarkup && "keyboard" in m.replyMarkup ? m.replyMarkup.keyboard.flat().map((b) => b.text) : []);

test("edit: menu → prompt → result in one message, edited in place", async () => {
  h = await open("edit");
  const u = h.human();
  const menu = u.waitFor(TEXT.menuOpen);
  u.send("/start");
  const m = await menu;
  const prompt = u.waitFor((x) => inlineButtons(x).some((b) => b.text === BUTTON.confirm));
  await u.press("Курган");
  expect((await prompt).id).toBe(m.id);
  const result = u.waitFor(RECOGNISE.booked);
  const answer = await u.press(BUTTON.confirm);
  expect(answer.text).toContain(RECOGNISE.booked);
  expect((await result).id).toBe(m.id);
  const again = u.waitFor(TEXT.menuOpen);
  await u.press(BUTTON.back);
  expect((await again).id).toBe(m.id);
  expect(fromBot(u)).toHaveLength(1);
});

test("reply: the menu and the confirmation are reply keyboards; a press sends its label", async () => {
  h = await open("reply");
  const u = h.human();
  const menu = u.waitFor(TEXT.menuOpen);
  u.send("/start");
  const labels = replyLabels(await menu);
  expect(labels).toContain(BUTTON.myBookings);
  const route = labels.find((l) => l.includes("Курган"))!;
  expect(inlineButtons(await menu)).toHaveLength(0);
  const prompt = u.waitFor((x) => replyLabels(x).includes(BUTTON.confirm));
  u.send(route);
  await prompt;
  const result = u.waitFor(RECOGNISE.booked);
  u.send(BUTTON.confirm);
  await result;
  // a second user presses the same label: the seat is gone
  const late = h.human();
  const latePrompt = late.waitFor((x) => replyLabels(x).includes(BUTTON.confirm));
  late.send(route);
  await latePrompt;
  const soldOut = late.waitFor(RECOGNISE.soldOut);
  late.send(BUTTON.confirm);
  await soldOut;
});

test("alert: results and sold-out only in the callback alert, no message", async () => {
  h = await open("alert");
  const [a, b] = [h.human("First"), h.human("Second")];
  for (const u of [a, b]) {
    const menu = u.waitFor(TEXT.menuOpen);
    u.send("/start");
    await menu;
    const prompt = u.waitFor((x) => inlineButtons(x).some((btn) => btn.text === BUTTON.confirm));
    await u.press("Курган");
    await prompt;
  }
  const won = await a.press(BUTTON.confirm);
  const lost = await b.press(BUTTON.confirm);
  expect(won).toMatchObject({ show_alert: true, text: expect.stringContaining(RECOGNISE.booked) });
  expect(lost).toMatchObject({ show_alert: true, text: expect.stringContaining(RECOGNISE.soldOut) });
  await Bun.sleep(200);
  for (const u of [a, b]) expect(fromBot(u).some((m) => m.text.includes(RECOGNISE.booked) || m.text.includes(RECOGNISE.soldOut))).toBe(false);
  expect(h.query<{ n: number }>("SELECT COUNT(*) AS n FROM bookings WHERE told_at IS NULL")[0]!.n).toBe(0);
});
