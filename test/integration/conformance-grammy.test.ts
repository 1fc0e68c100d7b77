// grammY (from npm, unmodified) against the sandbox's Bot API over HTTP: the conformance flow.

import { setDefaultTimeout } from "bun:test";
import { Bot, InlineKeyboard } from "grammy";
import { conformanceFlow } from "../helpers/conformance-flow.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const TOKEN = "7600000001:grammy-conformance";

conformanceFlow("grammY", TOKEN, async (sb) => {
  const bot = new Bot(TOKEN, { client: { apiRoot: sb.botApiUrl } });
  const chatMemberChanges: string[] = [];
  bot.command("start", (ctx) => ctx.reply("<b>Меню</b>", { parse_mode: "HTML", reply_markup: new InlineKeyboard().text("🧪 Тест", "test") }));
  bot.callbackQuery("test", async (ctx) => {
    await ctx.answerCallbackQuery("Тест запущен");
    await ctx.editMessageText("Тест идёт", { reply_markup: new InlineKeyboard().text("❌ Отмена", "cancel") });
  });
  bot.on("my_chat_member", (ctx) => {
    chatMemberChanges.push(`${ctx.myChatMember.old_chat_member.status}->${ctx.myChatMember.new_chat_member.status}`);
  });
  bot.catch((e) => console.error("grammY bot error:", e.message));
  const me = await bot.api.getMe();
  const polling = new Promise<void>((resolve) => void bot.start({ timeout: 5, onStart: () => resolve() }));
  await polling;
  return { me, chatMemberChanges, stop: () => bot.stop() };
});
