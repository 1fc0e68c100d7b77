// --inspect: how the client reads the bot, before the opening. Connects, optionally sends /start,
// and prints the bot's latest messages and buttons as the flow sees them, which texts.* each
// matches, and which button it would press for `targets`. It presses nothing.

import "./gramjs/prelude.ts";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers";
import { chooseTransport, findConfirmButton, initialState, labelSaysSoldOut, mentions, type MessageEvent, type RecogniseTexts } from "../flow.ts";
import type { ClientConfig } from "./config.ts";
import { obtainSession, openClient, resolveBot } from "./connect.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { messageFromBot } from "./updates.ts";

const KEYS: Record<keyof RecogniseTexts, string> = {
  announcement: "announcement",
  confirmButton: "confirm_button",
  booked: "booked",
  soldOut: "sold_out",
  notOpen: "not_open",
  alreadyBooked: "already_booked",
  soldOutButton: "sold_out_button",
};

export async function runInspect(cfg: ClientConfig, sendStart: boolean, out: (line: string) => void): Promise<number> {
  const tg = await openClient(cfg, (await obtainSession(cfg)).session);
  try {
    const peer = await resolveBot(tg, cfg.bot.username);
    const botId = peer.userId.toString();
    if (sendStart) {
      await tg.invoke(new Api.messages.SendMessage({ peer, message: "/start", randomId: generateRandomLong() }));
      out(`sent /start to @${cfg.bot.username}; reading the replies in a second`);
      await Bun.sleep(1000);
    }
    const res = await tg.invoke(new Api.messages.GetHistory({ peer, offsetId: 0, offsetDate: 0, addOffset: 0, limit: 10, maxId: 0, minId: 0, hash: returnBigInt(0) }));
    const messages = ("messages" in res ? res.messages : []).toReversed().map((m) => messageFromBot(m, botId, new Map(), 0, false)).filter((m) => m !== undefined);
    if (messages.length === 0) out(`no messages from @${cfg.bot.username} yet: try --inspect --start`);
    for (const m of messages) describeMessage(m, cfg, out);
    return 0;
  } finally {
    await tg.destroy().catch(() => {});
  }
}

function describeMessage(m: MessageEvent, cfg: ClientConfig, out: (line: string) => void): void {
  const { texts } = initialState({ targets: cfg.targets, texts: cfg.texts }).config;
  const matched = (Object.keys(KEYS) as (keyof RecogniseTexts)[]).filter((k) => k !== "soldOutButton" && k !== "confirmButton" && mentions(m.text.toLowerCase(), texts[k]));
  out(`\n#${m.id} ${m.text.split("\n").join(" / ")}`);
  out(`  matches: ${matched.length ? matched.map((k) => `texts.${KEYS[k]}`).join(", ") : "no texts.* key"}`);
  for (const row of m.buttons) {
    const labels = row.map((b) => `[${b.text}]${labelSaysSoldOut(b.text, texts.soldOutButton) ? " (sold out: texts.sold_out_button)" : ""}`);
    out(`  ${row[0]?.reply ? "reply keyboard" : "inline"}: ${labels.join(" ")}`);
  }
  const choice = chooseTransport(m.buttons, cfg.targets, [], texts.soldOutButton);
  const confirm = findConfirmButton(m.buttons, texts.confirmButton);
  if (choice) out(`  would press: [${choice.button.text}] (priority ${choice.target.priority}: ${choice.target.cities.join(", ")})`);
  else if (confirm) out(`  would press: [${confirm.text}] (texts.confirm_button)`);
  else if (m.buttons.length) out("  would press: nothing here (no button mentions a target city or texts.confirm_button)");
}
