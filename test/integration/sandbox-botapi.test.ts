// The sandbox's Bot API against an unmodified gramio Bot and raw HTTP: the exchange a booking
// bot needs, long polling, Telegram's errors (raw and as gramio's TelegramError), many bots.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Bot, InlineKeyboard, TelegramError } from "gramio";
import { Human } from "../../sandbox/human.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { api, sandboxBot, startBot, stopBot } from "../helpers/sandbox-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const CALLBACK_TIMEOUT_MS = 300;
let sb: Sandbox;
let token = 7100000000;
const newToken = () => `${++token}:test-secret`;

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, callbackTimeoutMs: CALLBACK_TIMEOUT_MS });
});
afterAll(async () => {
  await sb.stop();
});

/** A bot's token plus a user who has written to it, so the bot may send to them. */
async function botWithUser(name = "Anna") {
  const t = newToken();
  await api(sb, t, "getMe");
  const id = Number(t.split(":")[0]);
  const human = Human.create(sb.world, id, { first_name: name });
  human.send("hi");
  return { token: t, botId: id, human, chatId: human.userId };
}

async function rejection(p: Promise<unknown>): Promise<TelegramError<never>> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TelegramError);
    return e as TelegramError<never>;
  }
  throw new Error("expected a TelegramError");
}

describe("gramio exchange", () => {
  test("/start, an inline keyboard, a press answered, an edit", async () => {
    const t = newToken();
    const bot = sandboxBot(sb, t)
      .command("start", (ctx) => ctx.send("Меню", { reply_markup: new InlineKeyboard().text("🧪 Тест", "test") }))
      .on("callback_query", async (ctx) => {
        await ctx.answer({ text: "Тест запущен" });
        await ctx.editText("Тест идёт", { reply_markup: new InlineKeyboard().text("❌ Отмена", "cancel") });
      });
    await startBot(bot);
    const human = new Human(sb.world, sb.world.createUser({ first_name: "Ivan", username: "ivan_t" }).id, bot.info!.username!);
    try {
      const menu = human.waitFor("Меню");
      human.send("/start");
      const m = await menu;
      expect(m.replyMarkup).toEqual({ inline_keyboard: [[{ text: "🧪 Тест", callback_data: "test" }]] });

      const edited = human.waitFor("Тест идёт");
      expect(await human.press("🧪 Тест")).toEqual({ text: "Тест запущен", show_alert: undefined, url: undefined });
      const e = await edited;
      expect(e.id).toBe(m.id);
      expect(e.editDate).toBeNumber();
      expect(human.history().map((x) => x.text)).toEqual(["/start", "Тест идёт"]);
    } finally {
      human.close();
      await stopBot(sb, bot);
    }
  });

  test("getMe and sendMessage return Telegram-shaped objects", async () => {
    const { token: t, chatId, human } = await botWithUser("Olga");
    const bot = sandboxBot(sb, t);
    const me = await bot.api.getMe();
    expect(me).toMatchObject({ id: Number(t.split(":")[0]), is_bot: true });
    const msg = await bot.api.sendMessage({ chat_id: chatId, text: "hello", parse_mode: "HTML", reply_markup: new InlineKeyboard().text("a", "b") });
    expect(msg).toEqual({
      message_id: 2,
      from: { id: me.id, is_bot: true, first_name: me.first_name, username: me.username },
      chat: { id: chatId, type: "private", first_name: "Olga" },
      date: expect.any(Number),
      text: "hello",
      reply_markup: { inline_keyboard: [[{ text: "a", callback_data: "b" }]] },
    });
    const edited = await bot.api.editMessageReplyMarkup({ chat_id: chatId, message_id: msg.message_id });
    expect(edited).toMatchObject({ message_id: 2, text: "hello", edit_date: expect.any(Number) });
    expect((edited as { reply_markup?: unknown }).reply_markup).toBeUndefined();
    expect(await bot.api.deleteMessage({ chat_id: chatId, message_id: 2 })).toBe(true);
    expect(human.history().map((m) => m.text)).toEqual(["hi"]);
    expect(await bot.api.setMyCommands({ commands: [{ command: "start", description: "Меню" }] })).toBe(true);
    expect(await bot.api.getMyCommands()).toEqual([{ command: "start", description: "Меню" }]);
    expect(await bot.api.deleteWebhook()).toBe(true);
    expect(await bot.api.getWebhookInfo()).toMatchObject({ url: "", pending_update_count: 1 });
    human.close();
  });
});

// Each with its own bot token: the long poll that runs out its second has the others beside it.
describe("getUpdates", () => {
  test.concurrent("holds a long poll for its timeout when nothing happens", async () => {
    const t = newToken();
    const t0 = performance.now();
    const { body } = await api(sb, t, "getUpdates", { json: { timeout: 1 } });
    const took = performance.now() - t0;
    expect(body).toEqual({ ok: true, result: [] });
    expect(took).toBeGreaterThanOrEqual(750);
    expect(took).toBeLessThan(2500);
  });

  test.concurrent("returns at once when an update arrives, update_id first", async () => {
    const { token: t, botId, human } = await botWithUser();
    const first = await api(sb, t, "getUpdates", { query: "timeout=0" });
    const offset = first.body.result[0].update_id + 1;
    const t0 = performance.now();
    const poll = api(sb, t, "getUpdates", { json: { offset, timeout: 10 } });
    setTimeout(() => human.send("/start"), 100);
    const { body } = await poll;
    expect(performance.now() - t0).toBeLessThan(1000);
    const u = body.result[0];
    expect(Object.keys(u)).toEqual(["update_id", "message"]);
    expect(u.message).toMatchObject({ text: "/start", chat: { type: "private" }, entities: [{ type: "bot_command", offset: 0, length: 6 }] });
    // offset confirms: the first update is gone
    const again = await api(sb, t, "getUpdates", { form: { offset: String(offset), timeout: "0" } });
    expect(again.body.result.map((x: { update_id: number }) => x.update_id)).toEqual([offset]);
    expect(sb.world.bots.get(botId)!.waiters.size).toBe(0);
    human.close();
  });

  test.concurrent("a newer poll ends the older with 409, an aborted poll releases its wait", async () => {
    const t = newToken();
    const older = api(sb, t, "getUpdates", { query: "timeout=5" });
    await Bun.sleep(50);
    const newer = api(sb, t, "getUpdates", { query: "timeout=0" });
    expect((await older).body).toMatchObject({ ok: false, error_code: 409 });
    expect((await newer).body).toEqual({ ok: true, result: [] });

    const ctrl = new AbortController();
    const aborted = fetch(`${sb.botApiUrl}/bot${t}/getUpdates?timeout=5`, { signal: ctrl.signal }).catch(() => "aborted");
    await Bun.sleep(50);
    ctrl.abort();
    expect(await aborted).toBe("aborted");
    await Bun.sleep(20);
    expect(sb.world.bots.get(Number(t.split(":")[0]))!.waiters.size).toBe(0);
  });

  test.concurrent("allowed_updates filters and is remembered", async () => {
    const { token: t, human, botId } = await botWithUser();
    const msg = sb.world.botSends(botId, human.userId, "pick", { inline_keyboard: [[{ text: "x", callback_data: "x" }]] });
    const press = human.press("x", msg.id);
    const { body } = await api(sb, t, "getUpdates", { json: { allowed_updates: ["callback_query"] } });
    expect(body.result.map((u: object) => Object.keys(u)[1])).toEqual(["callback_query"]);
    const cq = body.result[0].callback_query;
    expect(cq).toMatchObject({ data: "x", message: { message_id: msg.id, text: "pick" }, from: { id: human.userId } });
    await api(sb, t, "answerCallbackQuery", { json: { callback_query_id: cq.id, text: "ok" } });
    expect(await press).toMatchObject({ text: "ok" });
    human.send("ignored");
    const later = await api(sb, t, "getUpdates", { json: { offset: body.result[0].update_id + 1, timeout: 0 } });
    expect(later.body.result).toEqual([]);
    human.close();
  });
});

describe("request formats", () => {
  test("JSON, urlencoded, multipart and query string bodies; case-insensitive methods", async () => {
    const { token: t, chatId, human } = await botWithUser();
    const markup = JSON.stringify({ inline_keyboard: [[{ text: "🧪 Тест", callback_data: "test" }]] });
    const form = await api(sb, t, "SENDMESSAGE", { form: { chat_id: String(chatId), text: "form", reply_markup: markup } });
    expect(form.body.result.reply_markup.inline_keyboard[0][0].text).toBe("🧪 Тест");
    const fd = new FormData();
    fd.set("chat_id", String(chatId));
    fd.set("text", "multipart");
    fd.set("reply_markup", JSON.stringify({ keyboard: [["📋 Мои брони"]], resize_keyboard: true }));
    const mp = (await (await fetch(`${sb.botApiUrl}/bot${t}/sendMessage`, { method: "POST", body: fd })).json()) as { result: object };
    expect(mp.result).toMatchObject({ text: "multipart" });
    expect(human.lastFromBot()!.replyMarkup).toEqual({ keyboard: [[{ text: "📋 Мои брони" }]], resize_keyboard: true });
    const q = await api(sb, t, "sendMessage", { query: `chat_id=${chatId}&text=${encodeURIComponent("query string")}` });
    expect(q.body.result.text).toBe("query string");
    human.close();
  });
});

describe("errors, raw and through gramio", () => {
  test("401 for a malformed token", async () => {
    const { status, body } = await api(sb, "not-a-token", "getMe");
    expect(status).toBe(401);
    expect(body).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
    const e = await rejection(sandboxBot(sb, "12345").api.getMe());
    expect(e.code).toBe(401);
  });

  test("404 for an unknown method", async () => {
    const t = newToken();
    expect(await api(sb, t, "sendTelepathy")).toEqual({ status: 404, body: { ok: false, error_code: 404, description: "Not Found" } });
    const e = await rejection((sandboxBot(sb, t).api as unknown as Record<string, () => Promise<unknown>>).sendTelepathy!());
    expect(e.code).toBe(404);
  });

  test("400 for missing or invalid parameters", async () => {
    const { token: t, chatId } = await botWithUser();
    expect((await api(sb, t, "sendMessage", { json: { text: "x" } })).body).toEqual({ ok: false, error_code: 400, description: "Bad Request: chat_id is empty" });
    expect((await api(sb, t, "sendMessage", { json: { chat_id: chatId } })).body.description).toBe("Bad Request: message text is empty");
    expect((await api(sb, t, "sendMessage", { json: { chat_id: 42, text: "x" } })).body.description).toBe("Bad Request: chat not found");
    const badMarkup = await api(sb, t, "sendMessage", { form: { chat_id: String(chatId), text: "x", reply_markup: "{oops" } });
    expect(badMarkup.body.description).toBe("Bad Request: can't parse reply keyboard markup JSON object");
    const e = await rejection(sandboxBot(sb, t).api.sendMessage({ text: "x" } as never));
    expect(e.code).toBe(400);
    expect(e.message).toBe("Bad Request: chat_id is empty");
  });

  test("400 message is not modified", async () => {
    const { token: t, chatId } = await botWithUser();
    const bot = sandboxBot(sb, t);
    const m = await bot.api.sendMessage({ chat_id: chatId, text: "same" });
    const raw = await api(sb, t, "editMessageText", { json: { chat_id: chatId, message_id: m.message_id, text: "same" } });
    expect(raw.status).toBe(400);
    expect(raw.body.description).toStartWith("Bad Request: message is not modified:");
    const e = await rejection(bot.api.editMessageText({ chat_id: chatId, message_id: m.message_id, text: "same" }));
    expect(e.code).toBe(400);
    expect(e.message).toContain("message is not modified");
  });

  test("400 query is too old after the callback timeout", async () => {
    const { token: t, botId, human } = await botWithUser();
    const bot = sandboxBot(sb, t);
    const m = sb.world.botSends(botId, human.userId, "pick", { inline_keyboard: [[{ text: "go", callback_data: "go" }]] });
    const answer = human.press("go", m.id);
    const [u] = (await api(sb, t, "getUpdates", { query: "offset=2" })).body.result;
    expect(await answer).toEqual({ timeout: true });
    const raw = await api(sb, t, "answerCallbackQuery", { json: { callback_query_id: u.callback_query.id } });
    const tooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid";
    expect(raw).toEqual({ status: 400, body: { ok: false, error_code: 400, description: tooOld } });
    const e = await rejection(bot.api.answerCallbackQuery({ callback_query_id: u.callback_query.id }));
    expect(e.code).toBe(400);
    expect(e.message).toBe(tooOld);
    human.close();
  });

  test("403 when the user blocked the bot", async () => {
    const { token: t, botId, chatId, human } = await botWithUser();
    sb.world.setBlocked(chatId, botId, true);
    const raw = await api(sb, t, "sendMessage", { json: { chat_id: chatId, text: "promo" } });
    expect(raw).toEqual({ status: 403, body: { ok: false, error_code: 403, description: "Forbidden: bot was blocked by the user" } });
    const e = await rejection(sandboxBot(sb, t).api.sendMessage({ chat_id: chatId, text: "promo" }));
    expect(e.code).toBe(403);
    human.close();
  });

  test("429 with retry_after when the rate limit is on", async () => {
    const limited = await startSandbox({ botApiPort: 0, mtprotoPort: 0, rateLimit: { perChatBurst: 2, globalBurst: 30 } });
    try {
      const t = newToken();
      const bot = sandboxBot(limited, t);
      await bot.api.getMe();
      const user = Human.create(limited.world, bot.info?.id ?? Number(t.split(":")[0]));
      user.send("hi");
      await bot.api.sendMessage({ chat_id: user.userId, text: "1" });
      await bot.api.sendMessage({ chat_id: user.userId, text: "2" });
      const raw = await api(limited, t, "sendMessage", { json: { chat_id: user.userId, text: "3" } });
      expect(raw).toEqual({ status: 429, body: { ok: false, error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } } });
      const e = await rejection(bot.api.sendMessage({ chat_id: user.userId, text: "3" }));
      expect(e.code).toBe(429);
      expect(e.payload?.retry_after).toBe(1);
      // Other chats share only the bot-wide bucket of 30.
      const others = Array.from({ length: 40 }, () => Human.create(limited.world, user.botId));
      for (const o of others) o.send("hi");
      const results = await Promise.all(others.map((o) => api(limited, t, "sendMessage", { json: { chat_id: o.userId, text: "x" } })));
      const ok = results.filter((r) => r.status === 200).length;
      expect(ok).toBeGreaterThanOrEqual(27); // 28 tokens left, plus what refilled meanwhile
      expect(ok).toBeLessThan(40);
      for (const o of [user, ...others]) o.close();
    } finally {
      await limited.stop();
    }
  });
});

describe("many at once", () => {
  test("10 gramio bots, 10 users each, all served", async () => {
    const bots: Bot[] = [];
    for (let i = 0; i < 10; i++) {
      const bot = sandboxBot(sb, newToken()).command("start", (ctx) => ctx.send(`hello ${ctx.from?.firstName}`));
      await startBot(bot);
      bots.push(bot);
    }
    try {
      const humans = bots.flatMap((b) => Array.from({ length: 10 }, (_, j) => Human.create(sb.world, b.info!.id, { first_name: `u${j}` })));
      const replies = humans.map((h, i) => h.waitFor(`hello u${i % 10}`, { timeoutMs: 5000 }));
      for (const h of humans) h.send("/start");
      expect((await Promise.all(replies)).length).toBe(100);
      for (const h of humans) h.close();
    } finally {
      await Promise.all(bots.map((b) => stopBot(sb, b)));
    }
  }, 15_000);
});
