// The bot every MTProto conformance test talks to: an unmodified gramio bot on the sandbox's Bot
// API. /start -> "Menu" with one inline button; pressing it -> the answer "pressed" and the
// message edited to "Edited". `send` writes to a user from outside (for the catch-up step).

import { InlineKeyboard } from "gramio";
import type { Sandbox } from "../../sandbox/index.ts";
import { sandboxBot, startBot, stopBot } from "./sandbox-bot.ts";

export const CONFORMANCE = { menu: "Menu", button: "Go", answer: "pressed", edited: "Edited" } as const;

export async function startConformanceBot(sb: Sandbox, token: string) {
  const bot = sandboxBot(sb, token)
    .command("start", (ctx) => ctx.send(CONFORMANCE.menu, { reply_markup: new InlineKeyboard().text(CONFORMANCE.button, "go") }))
    .on("callback_query", async (ctx) => {
      await ctx.answer({ text: CONFORMANCE.answer });
      await ctx.editText(CONFORMANCE.edited);
    });
  await startBot(bot);
  return {
    username: bot.info!.username!,
    send: (userId: number, text: string) => bot.api.sendMessage({ chat_id: userId, text }),
    stop: () => stopBot(sb, bot),
  };
}
