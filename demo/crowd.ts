// Simulated people for the scheduled demo: each reads the announcement after a human reaction time
// (0.5-3 s), sends /start, takes a moment to read the menu and tap a transport, and another to tap
// "Подтвердить". One attempt each, as most people would: sold out means they lost.

import { BUTTON, RECOGNISE, TEXT } from "../lib/ui.ts";
import { Human, inlineButtons } from "../sandbox/human.ts";
import type { Message, World } from "../sandbox/world.ts";

export type PersonResult = "booked" | "soldOut" | "nothingLeft" | "noAnnouncement" | "noReply";

export interface Person {
  human: Human;
  name: string;
  reactionMs: number;
  result?: PersonResult;
}

const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

export function makeCrowd(world: World, bot: string, n: number): Person[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `Person ${String(i + 1).padStart(3, "0")}`;
    return { human: Human.create(world, bot, { first_name: name }), name, reactionMs: rand(500, 3000) };
  });
}

const isMenu = (m: Message) => m.text === TEXT.menuOpen || m.text === TEXT.menuNothingLeft || m.text.includes(RECOGNISE.notOpen);
const isPrompt = (m: Message) => inlineButtons(m).some((b) => b.text === BUTTON.confirm) || !m.text.startsWith(TEXT.confirmPromptHead);
const isResult = (m: Message) => m.text.includes(RECOGNISE.booked) || m.text.includes(RECOGNISE.soldOut) || m.text.includes(RECOGNISE.alreadyBooked);

/** One person's attempt, from the announcement to the result. */
export async function compete(p: Person, announcementTimeoutMs: number): Promise<PersonResult> {
  const h = p.human;
  const reply = async (match: (m: Message) => boolean, act: () => unknown): Promise<Message | undefined> => {
    // Caught at once: the reply may time out while act() still waits (a press waits for its answer).
    const r = h.waitFor(match, { timeoutMs: 15_000 }).catch(() => undefined);
    await act();
    return r;
  };
  try {
    await h.waitFor(RECOGNISE.announcement, { timeoutMs: announcementTimeoutMs });
  } catch {
    return (p.result = "noAnnouncement");
  }
  await Bun.sleep(p.reactionMs);
  const menu = await reply(isMenu, () => h.send("/start"));
  if (!menu) return (p.result = "noReply");
  // Transports are the menu's buttons other than the fixed ones (📋 Мои брони, 🧪 Тест).
  const fixed: string[] = Object.values(BUTTON);
  const transports = inlineButtons(menu).filter((b) => !fixed.includes(b.text));
  if (!transports.length) return (p.result = "nothingLeft");
  const choice = transports[Math.floor(Math.random() * transports.length)]!;
  await Bun.sleep(rand(300, 800));
  const prompt = await reply(isPrompt, () => h.press(choice.text, menu.id));
  if (!prompt || !inlineButtons(prompt).some((b) => b.text === BUTTON.confirm)) return (p.result = prompt ? "soldOut" : "noReply");
  await Bun.sleep(rand(300, 800));
  const result = await reply(isResult, () => h.press(BUTTON.confirm, prompt.id));
  if (!result) return (p.result = "noReply");
  return (p.result = result.text.includes(RECOGNISE.soldOut) ? "soldOut" : "booked");
}
