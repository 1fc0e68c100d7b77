// Telegraf (from npm, unmodified) against the sandbox's Bot API over HTTP: the conformance flow.
// Under Bun, Telegraf gzips every request body; a recording proxy in front of the sandbox shows
// that those compressed bodies are what the sandbox reads.

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Markup, Telegraf } from "telegraf";
import { conformanceFlow } from "../helpers/conformance-flow.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const TOKEN = "7600000002:telegraf-conformance";
const encodings = new Set<string>();
let proxy: ReturnType<typeof Bun.serve> | undefined;

/** Forwards every request unchanged to `target`, noting the Content-Encoding of its body. */
function recordingProxy(target: string) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "POST") encodings.add(req.headers.get("content-encoding") ?? "identity");
      const body = req.method === "POST" ? await req.arrayBuffer() : undefined;
      return fetch(`${target}${url.pathname}${url.search}`, { method: req.method, headers: req.headers, body, signal: req.signal, decompress: false });
    },
  });
}

conformanceFlow("Telegraf", TOKEN, async (sb) => {
  proxy ??= recordingProxy(sb.botApiUrl);
  const bot = new Telegraf(TOKEN, { telegram: { apiRoot: `http://127.0.0.1:${proxy.port}` } });
  const chatMemberChanges: string[] = [];
  bot.start((ctx) => ctx.replyWithHTML("<b>Меню</b>", Markup.inlineKeyboard([Markup.button.callback("🧪 Тест", "test")])));
  bot.action("test", async (ctx) => {
    await ctx.answerCbQuery("Тест запущен");
    await ctx.editMessageText("Тест идёт", Markup.inlineKeyboard([Markup.button.callback("❌ Отмена", "cancel")]));
  });
  bot.on("my_chat_member", (ctx) => {
    chatMemberChanges.push(`${ctx.myChatMember.old_chat_member.status}->${ctx.myChatMember.new_chat_member.status}`);
  });
  bot.catch((e) => console.error("Telegraf bot error:", (e as Error).message));
  const me = await bot.telegram.getMe();
  await new Promise<void>((resolve, reject) => bot.launch(resolve).catch(reject));
  return {
    me,
    chatMemberChanges,
    stop: async () => bot.stop("test over"),
  };
});

test("Telegraf's request bodies reached the sandbox gzip-compressed", () => {
  expect([...encodings]).toContain("gzip");
});

afterAll(() => {
  proxy?.stop(true);
});
