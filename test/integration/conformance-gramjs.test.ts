// gramjs (layer 198, TCP-full, RSA_PAD) against the sandbox through the same flow as the other
// conformance tests: log in with the sandbox's code, /start a gramio bot, get its keyboard, press,
// see the edit, then catch up after being offline. gramjs's own catchUp() is a TODO in gramjs, so
// the client asks updates.getDifference itself, as an app on gramjs has to.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Api, TelegramClient } from "telegram";
import { NewMessage, type NewMessageEvent } from "telegram/events";
import { EditedMessage, type EditedMessageEvent } from "telegram/events/EditedMessage";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { PortSafeStringSession, socketDialing, trustServerKey } from "../../lib/client/gramjs/connect.ts";
import { SANDBOX_API_CREDENTIALS, SANDBOX_LOGIN_CODE } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { CONFORMANCE, startConformanceBot } from "../helpers/conformance-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const PHONE = "+79990004198";
let sb: Sandbox;
let bot: Awaited<ReturnType<typeof startConformanceBot>>;
let client: TelegramClient;

function next<E>(builder: NewMessage | EditedMessage, pred: (e: E) => boolean, ms = 5000): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeEventHandler(on, builder);
      reject(new Error(`no such event within ${ms} ms`));
    }, ms);
    const on = (e: E) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      client.removeEventHandler(on, builder);
      resolve(e);
    };
    client.addEventHandler(on, builder);
  });
}

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
  bot = await startConformanceBot(sb, "7000000198:conformance-gramjs");
  trustServerKey(sb.rsaPublicKey().pem);
  const session = new PortSafeStringSession("");
  session.setDC(2, sb.mtprotoHost, sb.mtprotoPort);
  client = new TelegramClient(session, SANDBOX_API_CREDENTIALS.apiId, SANDBOX_API_CREDENTIALS.apiHash, {
    connectionRetries: 1,
    networkSocket: socketDialing(sb.mtprotoHost, sb.mtprotoPort),
    baseLogger: new Logger(LogLevel.ERROR),
  });
});

afterAll(async () => {
  await client?.destroy();
  await bot?.stop();
  await sb?.stop();
});

describe("gramjs against the sandbox", () => {
  let menu: Api.Message;

  test("logs in with the sandbox's code", async () => {
    await client.start({ phoneNumber: PHONE, phoneCode: async () => SANDBOX_LOGIN_CODE, onError: async () => true });
    expect(String((await client.getMe()).id)).toBe(String(sb.world.userByPhone(PHONE)!.id));
  });

  test("/start to the bot; its inline keyboard arrives", async () => {
    const got = next<NewMessageEvent>(new NewMessage({ incoming: true }), (e) => e.message.message === CONFORMANCE.menu);
    await client.sendMessage(bot.username, { message: "/start" });
    menu = (await got).message;
    expect(menu.buttons?.map((row) => row.map((b) => b.text))).toEqual([[CONFORMANCE.button]]);
  });

  test("pressing the button gets the bot's answer; the edit arrives", async () => {
    const edited = next<EditedMessageEvent>(new EditedMessage({}), (e) => e.message.id === menu.id);
    const answer = (await menu.click({ i: 0 })) as Api.messages.BotCallbackAnswer;
    expect(answer.message).toBe(CONFORMANCE.answer);
    expect((await edited).message.message).toBe(CONFORMANCE.edited);
  });

  test("after being offline, updates.getDifference returns the message it missed", async () => {
    const state = await client.invoke(new Api.updates.GetState());
    await client.disconnect();
    await bot.send(sb.world.userByPhone(PHONE)!.id, "while you were away");
    await client.connect();
    const diff = await client.invoke(new Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: 0 }));
    expect(diff).toBeInstanceOf(Api.updates.Difference);
    expect((diff as Api.updates.Difference).newMessages.map((m) => (m as Api.Message).message)).toEqual(["while you were away"]);
  });
});
