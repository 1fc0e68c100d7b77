// fastInvoke writes hot-path requests straight to the socket; answers and errors must still come
// back exactly as gramjs's own invoke gives them, over real MTProto to the sandbox.
import "../../lib/client/gramjs/prelude.ts";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Api, type TelegramClient } from "telegram";
import { FloodWaitError } from "telegram/errors";
import { fastInvoke } from "../../lib/client/gramjs/sender.ts";
import { generateRandomLong } from "../../lib/client/gramjs/fast-longs.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const BOT = { token: "7300000001:fast-invoke-bot", username: "fast_invoke_bot" };
let sb: Sandbox;
const clients: TelegramClient[] = [];

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BOT], floodWait: { requestsPerSecond: 5 } });
});
afterAll(async () => {
  for (const tg of clients) await tg.destroy().catch(() => {});
  await sb.stop();
});

async function connect(phone: string): Promise<{ tg: TelegramClient; userId: number; peer: Api.InputPeerUser }> {
  const { userId, session } = sb.sessionFor(phone);
  const tg = await connectSandboxClient(session);
  clients.push(tg);
  const r = await tg.invoke(new Api.contacts.ResolveUsername({ username: BOT.username }));
  const u = r.users[0] as Api.User;
  return { tg, userId, peer: new Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! }) };
}

const send = (peer: Api.InputPeerUser, text: string) => new Api.messages.SendMessage({ peer, message: text, randomId: generateRandomLong() });

describe("fastInvoke", () => {
  test("a message reaches the bot and the call resolves with Telegram's answer", async () => {
    const { tg, userId, peer } = await connect("+79990007001");
    const bot = sb.world.botByUsername(BOT.username)!;
    // It must really bypass gramjs's send queue (and so notice if gramjs's internals move).
    const queue = (tg as unknown as { _sender: { _sendQueue: { append: (...a: unknown[]) => unknown } } })._sender._sendQueue;
    const append = queue.append.bind(queue);
    let queued = 0;
    queue.append = (...a: unknown[]) => ((queued += (a[0] as { request?: { className?: string } } | undefined)?.request?.className === "messages.SendMessage" ? 1 : 0), append(...a));
    const answer = await fastInvoke(tg, send(peer, "/start"));
    queue.append = append;
    expect(queued).toBe(0);
    expect(answer).toBeDefined();
    expect(sb.world.history(userId, bot.id).map((m) => m.text)).toEqual(["/start"]);
  });

  test("a callback press resolves with the bot's answer", async () => {
    const { tg, userId, peer } = await connect("+79990007002");
    const bot = sb.world.botByUsername(BOT.username)!;
    sb.world.userSends(userId, bot.id, "/start");
    const m = sb.world.botSends(bot.id, userId, "menu", { inline_keyboard: [[{ text: "go", callback_data: "go" }]] });
    const stop = sb.world.observe((e) => {
      if (e.type === "callbackQuery") sb.world.answerCallback(bot.id, e.query.id, { text: "pressed " + e.query.data });
    });
    const answer = await fastInvoke(tg, new Api.messages.GetBotCallbackAnswer({ peer, msgId: m.id, data: Buffer.from("go") }));
    stop();
    expect((answer as Api.messages.BotCallbackAnswer).message).toBe("pressed go");
  });

  test("errors come back as gramjs errors (FLOOD_WAIT as FloodWaitError with its seconds)", async () => {
    const { tg, peer } = await connect("+79990007003");
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => fastInvoke(tg, send(peer, `spam ${i}`))));
    const flood = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason);
    expect(flood.length).toBeGreaterThan(0);
    expect(flood[0]).toBeInstanceOf(FloodWaitError);
    expect((flood[0] as FloodWaitError).seconds).toBeGreaterThanOrEqual(1);
  });

  test("on a client that is not connected it falls back to invoke, which says so", async () => {
    const { tg, peer } = await connect("+79990007004");
    await tg.disconnect();
    await expect(fastInvoke(tg, send(peer, "/start"))).rejects.toThrow(/disconnect/i);
  });
});
