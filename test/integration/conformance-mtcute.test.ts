// mtcute (a TypeScript MTProto client, layer 221 over the intermediate transport) against the
// sandbox, unmodified: log in with the sandbox's code, /start a gramio bot, get its keyboard,
// press the button, see the edit, then come back after being offline and catch up.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { BunCryptoProvider, TelegramClient } from "@mtcute/bun";
import { MemoryStorage, type Message } from "@mtcute/core";
import { addPublicKey } from "@mtcute/core/utils.js";
import { SANDBOX_API_CREDENTIALS, SANDBOX_LOGIN_CODE } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { CONFORMANCE, startConformanceBot } from "../helpers/conformance-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const PHONE = "+79990004221";
let sb: Sandbox;
let bot: Awaited<ReturnType<typeof startConformanceBot>>;
const storage = new MemoryStorage();
let tg: TelegramClient;

function client(): TelegramClient {
  const dc = { id: 2, ipAddress: sb.mtprotoHost, port: sb.mtprotoPort };
  return new TelegramClient({ ...SANDBOX_API_CREDENTIALS, storage, defaultDcs: { main: dc, media: dc }, logLevel: 1, updates: { catchUp: true } });
}

/** The first message an emitter delivers that passes `pred`. */
function next(emitter: TelegramClient["onNewMessage"], pred: (m: Message) => boolean, ms = 5000): Promise<Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.remove(on);
      reject(new Error(`no such message within ${ms} ms`));
    }, ms);
    const on = (m: Message) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      emitter.remove(on);
      resolve(m);
    };
    emitter.add(on);
  });
}

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
  bot = await startConformanceBot(sb, "7000000221:conformance-mtcute");
  const crypto = new BunCryptoProvider();
  await crypto.initialize?.();
  addPublicKey(crypto, sb.rsaPublicKey().pem); // mtcute trusts Telegram's keys only, like gramjs
  tg = client();
});

afterAll(async () => {
  await tg?.destroy();
  await bot?.stop();
  await sb?.stop();
});

describe("mtcute against the sandbox", () => {
  let menu: Message;

  test("logs in with the sandbox's code (key exchange, auth.sendCode, auth.signIn)", async () => {
    const me = await tg.start({ phone: PHONE, code: async () => SANDBOX_LOGIN_CODE });
    expect(me.isSelf).toBe(true);
    expect(me.id).toBe(sb.world.userByPhone(PHONE)!.id);
  });

  test("/start to the bot; its inline keyboard arrives as a new message", async () => {
    const got = next(tg.onNewMessage, (m) => m.text === CONFORMANCE.menu);
    await tg.sendText(bot.username, "/start");
    menu = await got;
    const markup = menu.markup;
    if (!markup || !("type" in markup) || markup.type !== "inline") throw new Error(`expected an inline keyboard, got ${JSON.stringify(markup)}`);
    expect(markup.buttons.map((row) => row.map((b) => b.text))).toEqual([[CONFORMANCE.button]]);
  });

  test("pressing the button gets the bot's answer, and the edit arrives", async () => {
    const edited = next(tg.onEditMessage, (m) => m.id === menu.id && m.text === CONFORMANCE.edited);
    const answer = await tg.getCallbackAnswer({ chatId: bot.username, message: menu.id, data: "go" });
    expect(answer.message).toBe(CONFORMANCE.answer);
    expect((await edited).text).toBe(CONFORMANCE.edited);
  });

  test("a message sent while it was offline arrives after it reconnects", async () => {
    await tg.destroy();
    await bot.send(sb.world.userByPhone(PHONE)!.id, "while you were away");
    tg = client();
    const caught = next(tg.onNewMessage, (m) => m.text === "while you were away");
    await tg.start({});
    expect((await caught).text).toBe("while you were away");
  });
});
