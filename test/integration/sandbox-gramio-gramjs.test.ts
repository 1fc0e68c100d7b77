// The sandbox's reason to exist: an unmodified gramio bot (Bot API over HTTP) and an unmodified
// gramjs user client (MTProto over TCP) talking to each other offline, through the same world.
import "../../lib/client/gramjs/prelude.ts";
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { InlineKeyboard } from "gramio";
import { Api, type TelegramClient } from "telegram";
import { NewMessage, type NewMessageEvent } from "telegram/events";
import { EditedMessage, type EditedMessageEvent } from "telegram/events/EditedMessage";
import { generateRandomLong } from "../../lib/client/gramjs/fast-longs.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { sandboxBot, startBot, stopBot } from "../helpers/sandbox-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const TOKEN = "7400000001:gramio-meets-gramjs";
let sb: Sandbox;
let bot: ReturnType<typeof sandboxBot>;
let tg: TelegramClient;
const answered: string[] = [];

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
  bot = sandboxBot(sb, TOKEN)
    .command("start", (ctx) => ctx.send("Меню", { reply_markup: new InlineKeyboard().text("Поехали", "go") }))
    .on("callback_query", async (ctx) => {
      answered.push(ctx.data ?? "");
      await ctx.answer({ text: `нажато: ${ctx.data}` });
      await ctx.editText("Поехали!", { reply_markup: new InlineKeyboard().text("Ещё раз", "again") });
    });
  await startBot(bot);
  const { session } = sb.sessionFor("+79990008001");
  tg = await connectSandboxClient(session);
});

afterAll(async () => {
  await tg?.destroy().catch(() => {});
  if (bot) await stopBot(sb, bot);
  await sb?.stop();
});

function next<E>(register: (resolve: (e: E) => void) => void, timeoutMs = 5000): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
    register((e) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}

test("gramjs sends /start, gramio answers with a keyboard, the press is answered and the message edited", async () => {
  const username = bot.info!.username!;
  const resolved = await tg.invoke(new Api.contacts.ResolveUsername({ username }));
  const botUser = resolved.users[0] as Api.User;
  expect(botUser.bot).toBe(true);
  const peer = new Api.InputPeerUser({ userId: botUser.id, accessHash: botUser.accessHash! });

  // /start from the user's account → gramio's command handler → a menu pushed to gramjs.
  const menu = next<NewMessageEvent>((done) => tg.addEventHandler(done, new NewMessage({ incoming: true })));
  await tg.invoke(new Api.messages.SendMessage({ peer, message: "/start", randomId: generateRandomLong() }));
  const m = (await menu).message;
  expect(m.message).toBe("Меню");
  const markup = m.replyMarkup as Api.ReplyInlineMarkup;
  const button = markup.rows[0]!.buttons[0] as Api.KeyboardButtonCallback;
  expect(button.text).toBe("Поехали");

  // The press: gramio sees the callback query, answers it (the answer comes back to gramjs) and edits.
  const edit = next<EditedMessageEvent>((done) => tg.addEventHandler(done, new EditedMessage({})));
  const answer = await tg.invoke(new Api.messages.GetBotCallbackAnswer({ peer, msgId: m.id, data: button.data }));
  expect(answer.message).toBe("нажато: go");
  expect(answered).toEqual(["go"]);
  const e = (await edit).message;
  expect(e.id).toBe(m.id);
  expect(e.message).toBe("Поехали!");
  expect(((e.replyMarkup as Api.ReplyInlineMarkup).rows[0]!.buttons[0] as Api.KeyboardButtonCallback).text).toBe("Ещё раз");
});
