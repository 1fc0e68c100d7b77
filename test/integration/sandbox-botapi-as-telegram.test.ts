// The sandbox's Bot API doing what Telegram does beyond gramio's dialect, over real HTTP:
// compressed request bodies, my_chat_member on block/unblock, parse_mode, Telegram's send limits.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { deflateSync, gzipSync } from "node:zlib";
import { Human } from "../../sandbox/human.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { api } from "../helpers/sandbox-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

let sb: Sandbox;
let token = 7500000000;
const newToken = () => `${++token}:as-telegram`;

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
});
afterAll(async () => {
  await sb.stop();
});

/** A bot's token plus a user who has written to it; the user's message update is confirmed. */
async function botWithUser(s: Sandbox = sb) {
  const t = newToken();
  await api(s, t, "getMe");
  const botId = Number(t.split(":")[0]);
  const human = Human.create(s.world, botId, { first_name: "Anna" });
  human.send("/start");
  const [u] = (await api(s, t, "getUpdates")).body.result;
  return { token: t, botId, human, chatId: human.userId, offset: u.update_id + 1 };
}

async function compressed(t: string, method: string, encoding: string, body: Buffer, type = "application/json") {
  const res = await fetch(`${sb.botApiUrl}/bot${t}/${method}`, {
    method: "POST",
    headers: { "content-type": type, "content-encoding": encoding },
    body: new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as { ok: boolean; result?: { text?: string }; description?: string } };
}

describe("compressed request bodies", () => {
  test("gzip and deflate JSON and form bodies are read; a corrupt one is a 400", async () => {
    const { token: t, chatId, human } = await botWithUser();
    const json = (o: object) => Buffer.from(JSON.stringify(o));
    expect((await compressed(t, "getMe", "gzip", gzipSync(json({})))).body.ok).toBe(true);
    const viaGzip = await compressed(t, "sendMessage", "gzip", gzipSync(json({ chat_id: chatId, text: "сжато gzip" })));
    expect(viaGzip.body.result?.text).toBe("сжато gzip");
    const viaDeflate = await compressed(t, "sendMessage", "deflate", deflateSync(json({ chat_id: chatId, text: "deflate" })));
    expect(viaDeflate.body.result?.text).toBe("deflate");
    const form = gzipSync(Buffer.from(new URLSearchParams({ chat_id: String(chatId), text: "form" }).toString()));
    expect((await compressed(t, "sendMessage", "gzip", form, "application/x-www-form-urlencoded")).body.result?.text).toBe("form");
    expect(human.history().slice(-3).map((m) => m.text)).toEqual(["сжато gzip", "deflate", "form"]);
    const corrupt = await compressed(t, "sendMessage", "gzip", json({ chat_id: chatId, text: "not gzip" }));
    expect(corrupt).toEqual({ status: 400, body: { ok: false, error_code: 400, description: "Bad Request: can't decode the gzip request body" } as never });
    human.close();
  });
});

describe("my_chat_member", () => {
  test("blocking and unblocking reach the bot as Telegram sends them", async () => {
    const { token: t, botId, chatId, human, offset } = await botWithUser();
    const control = (blocked: boolean) =>
      fetch(`${sb.controlUrl}/block`, { method: "POST", body: new URLSearchParams({ user_id: String(chatId), bot: String(botId), blocked: String(blocked) }) });
    await control(true);
    await control(true); // no change, no update
    await control(false);
    const { body } = await api(sb, t, "getUpdates", { json: { offset, timeout: 0 } });
    expect(body.result.map((u: object) => Object.keys(u))).toEqual([
      ["update_id", "my_chat_member"],
      ["update_id", "my_chat_member"],
    ]);
    const bot = { id: botId, is_bot: true, first_name: `sandbox_${botId}_bot`, username: `sandbox_${botId}_bot` };
    expect(body.result[0].my_chat_member).toEqual({
      chat: { id: chatId, type: "private", first_name: "Anna" },
      from: { id: chatId, is_bot: false, first_name: "Anna" },
      date: expect.any(Number),
      old_chat_member: { user: bot, status: "member" },
      new_chat_member: { user: bot, status: "kicked", until_date: 0 },
    });
    expect(body.result[1].my_chat_member).toMatchObject({ old_chat_member: { status: "kicked" }, new_chat_member: { user: bot, status: "member" } });
    human.close();
  });

  test("writing to a blocked bot unblocks it first; allowed_updates without it drops it", async () => {
    const { token: t, botId, chatId, human, offset } = await botWithUser();
    sb.world.setBlocked(chatId, botId, true);
    human.send("/start");
    const { body } = await api(sb, t, "getUpdates", { json: { offset, timeout: 0 } });
    expect(body.result.map((u: Record<string, { new_chat_member?: { status: string } }>) => u.my_chat_member?.new_chat_member?.status ?? Object.keys(u)[1])).toEqual([
      "kicked",
      "member",
      "message",
    ]);
    const next = body.result[2].update_id + 1;
    sb.world.setBlocked(chatId, botId, true);
    human.send("hi");
    const filtered = await api(sb, t, "getUpdates", { json: { offset: next, timeout: 0, allowed_updates: ["message"] } });
    expect(filtered.body.result.map((u: object) => Object.keys(u)[1])).toEqual(["message"]);
    human.close();
  });
});

describe("parse_mode", () => {
  test("HTML and MarkdownV2 become entities on the message the user gets; edits re-format", async () => {
    const { token: t, chatId, human } = await botWithUser();
    const sent = await api(sb, t, "sendMessage", { json: { chat_id: chatId, text: "<b>Бронь</b> на <i>10:00</i> /start", parse_mode: "HTML" } });
    expect(sent.body.result).toMatchObject({
      text: "Бронь на 10:00 /start",
      entities: [
        { type: "bold", offset: 0, length: 5 },
        { type: "italic", offset: 9, length: 5 },
        { type: "bot_command", offset: 15, length: 6 },
      ],
    });
    expect(human.lastFromBot()).toMatchObject({
      text: "Бронь на 10:00 /start",
      entities: [
        { type: "bold", offset: 0, length: 5 },
        { type: "italic", offset: 9, length: 5 },
      ],
    });
    const id = sent.body.result.message_id;
    const edited = await api(sb, t, "editMessageText", { form: { chat_id: String(chatId), message_id: String(id), text: "*Готово*\\!", parse_mode: "MarkdownV2" } });
    expect(edited.body.result).toMatchObject({ text: "Готово!", entities: [{ type: "bold", offset: 0, length: 6 }] });
    // The same text without formatting is a change; the same formatting again is not.
    const plain = await api(sb, t, "editMessageText", { json: { chat_id: chatId, message_id: id, text: "Готово!" } });
    expect(plain.body.result.entities).toBeUndefined();
    expect(human.lastFromBot()!.entities).toBeUndefined();
    const same = await api(sb, t, "editMessageText", { json: { chat_id: chatId, message_id: id, text: "Готово!" } });
    expect(same.body.description).toStartWith("Bad Request: message is not modified");
    human.close();
  });

  test("malformed markup is refused with Telegram's error and nothing is sent", async () => {
    const { token: t, chatId, human } = await botWithUser();
    const before = human.history().length;
    const html = await api(sb, t, "sendMessage", { json: { chat_id: chatId, text: "<b>открыто", parse_mode: "HTML" } });
    expect(html).toEqual({
      status: 400,
      body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"" },
    });
    const md = await api(sb, t, "sendMessage", { json: { chat_id: chatId, text: "Версия 1.0", parse_mode: "MarkdownV2" } });
    expect(md.body.description).toBe("Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'");
    expect((await api(sb, t, "sendMessage", { json: { chat_id: chatId, text: "<b></b>", parse_mode: "HTML" } })).body.description).toBe(
      "Bad Request: message text is empty",
    );
    expect(human.history().length).toBe(before);
    human.close();
  });
});

describe("--rate-limit telegram", () => {
  test("sends and edits share the per-chat budget, callback answers are free", async () => {
    const limited = await startSandbox({ botApiPort: 0, mtprotoPort: 0, rateLimit: "telegram" });
    try {
      const { token: t, botId, chatId, human } = await botWithUser(limited);
      const statuses: number[] = [];
      const first = await api(limited, t, "sendMessage", {
        json: { chat_id: chatId, text: "1", reply_markup: { inline_keyboard: [[{ text: "go", callback_data: "go" }]] } },
      });
      statuses.push(first.status);
      for (const text of ["2", "3"]) statuses.push((await api(limited, t, "editMessageText", { json: { chat_id: chatId, message_id: first.body.result.message_id, text } })).status);
      // Telegram's burst per chat is 3: the fourth message to this chat within a second waits.
      const over = await api(limited, t, "sendMessage", { json: { chat_id: chatId, text: "4" } });
      expect(statuses).toEqual([200, 200, 200]);
      expect(over.status).toBe(429);
      expect(over.body.parameters.retry_after).toBeGreaterThanOrEqual(1);
      const edit = await api(limited, t, "editMessageText", { json: { chat_id: chatId, message_id: first.body.result.message_id, text: "5" } });
      expect(edit.status).toBe(429);

      const m = limited.world.botSends(botId, chatId, "pick", { inline_keyboard: [[{ text: "x", callback_data: "x" }]] });
      const presses = Array.from({ length: 5 }, () => limited.world.pressButton(chatId, botId, m.id, "x"));
      const { body } = await api(limited, t, "getUpdates", { json: { allowed_updates: ["callback_query"] } });
      const answers = await Promise.all(body.result.map((u: { callback_query: { id: string } }) => api(limited, t, "answerCallbackQuery", { json: { callback_query_id: u.callback_query.id, text: "ok" } })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      expect((await Promise.all(presses)).map((a) => a.text)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
      human.close();
    } finally {
      await limited.stop();
    }
  });

  test("an unknown setting is refused when the sandbox starts", async () => {
    await expect(startSandbox({ botApiPort: 0, mtprotoPort: 0, rateLimit: "fast" as never })).rejects.toThrow('rate limit "fast" is unknown: use "telegram" or "off"');
  });
});
