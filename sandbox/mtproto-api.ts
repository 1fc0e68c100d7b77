// The Telegram API methods the sandbox's MTProto front answers, and the conversions between the
// world's plain objects and gramjs's TL classes. Everything here is per request: no sockets.

import "./gramjs-prelude.ts";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers";
import type { LoggedUpdate, UpdateLog } from "./mtproto-updates.ts";
import type { Bot, Message, ReplyMarkup, User, World } from "./world.ts";
import { WorldError } from "./world.ts";

/** An RPC error as Telegram sends it: the code and an UPPER_CASE message. */
export class RpcFail extends Error {
  constructor(
    readonly code: number,
    readonly errorMessage: string,
  ) {
    super(`${code} ${errorMessage}`);
  }
}

/** What a method handler may return: a TL object, a Bool, or a Vector of TL objects. */
export type TlResult = { getBytes(): Buffer } | boolean | { getBytes(): Buffer }[];

/** Server-wide state the handlers read: shared by every connection. */
export interface ApiServer {
  world: World;
  host: string;
  port: number;
  nowSec(): number;
  accessHash(id: number): bigint;
  /** The user's update state (pts and what changed), kept while the server runs. */
  updates(userId: number): UpdateLog;
  /** auth.logOut: the connection's auth key forgets its user. */
  logOut(c: ApiConn): void;
}

/** Per-connection state the handlers read and write. */
export interface ApiConn {
  userId: number;
  /** The bot this connection talked to last: resolves message ids in messages.getMessages. */
  lastBotId?: number;
  /** Set while this connection writes to Saved Messages, so its own message is not pushed back. */
  sendingToSelf: boolean;
}

type Handler = (s: ApiServer, c: ApiConn, req: any) => TlResult | Promise<TlResult>;

const big = (n: number | bigint) => returnBigInt(typeof n === "bigint" ? n : BigInt(n));
const num = (v: unknown) => Number(String(v));

// ---- conversions ----

export function apiSelf(s: ApiServer, u: User): Api.User {
  return new Api.User({
    self: true,
    id: big(u.id),
    accessHash: big(s.accessHash(u.id)),
    firstName: u.first_name,
    lastName: u.last_name,
    username: u.username,
    phone: u.phone?.replace(/^\+/, ""),
    status: new Api.UserStatusOnline({ expires: s.nowSec() + 300 }),
  });
}

export function apiBot(s: ApiServer, b: Bot): Api.User {
  return new Api.User({
    bot: true,
    id: big(b.id),
    accessHash: big(s.accessHash(b.id)),
    firstName: b.first_name,
    username: b.username,
    botInfoVersion: 1,
  });
}

function apiMarkup(m: ReplyMarkup | undefined): Api.TypeReplyMarkup | undefined {
  if (!m) return undefined;
  if ("inline_keyboard" in m) {
    return new Api.ReplyInlineMarkup({
      rows: m.inline_keyboard.map(
        (row) =>
          new Api.KeyboardButtonRow({
            buttons: row.map((b) =>
              b.url !== undefined
                ? new Api.KeyboardButtonUrl({ text: b.text, url: b.url })
                : new Api.KeyboardButtonCallback({ text: b.text, data: Buffer.from(b.callback_data ?? "") }),
            ),
          }),
      ),
    });
  }
  if ("keyboard" in m) {
    return new Api.ReplyKeyboardMarkup({
      resize: m.resize_keyboard,
      singleUse: m.one_time_keyboard,
      rows: m.keyboard.map((row) => new Api.KeyboardButtonRow({ buttons: row.map((b) => new Api.KeyboardButton({ text: b.text })) })),
    });
  }
  return new Api.ReplyKeyboardHide({});
}

/** The bot's formatting as MTProto entities, and a leading /command as Telegram marks it. */
function apiEntities(m: Message): Api.TypeMessageEntity[] | undefined {
  const out: Api.TypeMessageEntity[] = [];
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(m.text);
  if (command) out.push(new Api.MessageEntityBotCommand({ offset: 0, length: command[0].length }));
  for (const e of m.entities ?? []) {
    const at = { offset: e.offset, length: e.length };
    const entity = {
      bold: () => new Api.MessageEntityBold(at),
      italic: () => new Api.MessageEntityItalic(at),
      underline: () => new Api.MessageEntityUnderline(at),
      strikethrough: () => new Api.MessageEntityStrike(at),
      spoiler: () => new Api.MessageEntitySpoiler(at),
      code: () => new Api.MessageEntityCode(at),
      pre: () => new Api.MessageEntityPre({ ...at, language: e.language ?? "" }),
      text_link: () => new Api.MessageEntityTextUrl({ ...at, url: e.url ?? "" }),
      custom_emoji: () => new Api.MessageEntityCustomEmoji({ ...at, documentId: big(BigInt(e.custom_emoji_id ?? "0")) }),
      blockquote: () => new Api.MessageEntityBlockquote(at),
      expandable_blockquote: () => new Api.MessageEntityBlockquote({ ...at, collapsed: true }),
    }[e.type];
    if (entity) out.push(entity());
  }
  return out.length ? out : undefined;
}

/** A world message as the user sees it: the bot's messages are incoming, the user's outgoing. */
export function apiMessage(m: Message): Api.Message {
  const out = m.botId === 0 || !m.outgoingFromBot;
  return new Api.Message({
    id: m.userMsgId,
    out,
    peerId: new Api.PeerUser({ userId: big(m.botId === 0 ? m.userId : m.botId) }),
    fromId: out ? new Api.PeerUser({ userId: big(m.userId) }) : undefined,
    date: m.date,
    message: m.text,
    entities: apiEntities(m),
    editDate: m.editDate,
    editHide: m.editDate !== undefined ? true : undefined,
    replyMarkup: apiMarkup(m.replyMarkup),
  });
}

/** A logged change as the update a client gets pushed or finds in getDifference. */
export function apiUpdate(u: LoggedUpdate): Api.TypeUpdate {
  if (u.kind === "delete") return new Api.UpdateDeleteMessages({ messages: u.userMsgIds, pts: u.pts, ptsCount: u.ptsCount });
  const message = apiMessage(u.message);
  return u.kind === "new" ? new Api.UpdateNewMessage({ message, pts: u.pts, ptsCount: 1 }) : new Api.UpdateEditMessage({ message, pts: u.pts, ptsCount: 1 });
}

/** The users a message list refers to: the user and the bots of those chats. */
function usersFor(s: ApiServer, userId: number, botIds: Iterable<number>): Api.User[] {
  const users: Api.User[] = [apiSelf(s, s.world.mustUser(userId))];
  for (const id of new Set(botIds)) {
    const b = id !== 0 && s.world.bots.get(id);
    if (b) users.push(apiBot(s, b));
  }
  return users;
}

// ---- peers ----

type Peer = { kind: "self" } | { kind: "bot"; bot: Bot };

/** Resolves an InputPeer / InputUser, checking the access hash as Telegram does. */
function peerOf(s: ApiServer, c: ApiConn, p: any): Peer {
  if (p instanceof Api.InputPeerSelf || p instanceof Api.InputUserSelf) return { kind: "self" };
  if (p instanceof Api.InputPeerUser || p instanceof Api.InputUser) {
    const id = num(p.userId);
    if (id === c.userId) return { kind: "self" };
    const bot = s.world.bots.get(id);
    if (!bot) throw new RpcFail(400, s.world.users.has(id) ? "PEER_ID_INVALID" : "USER_ID_INVALID");
    if (String(p.accessHash) !== String(s.accessHash(id))) throw new RpcFail(400, "PEER_ID_INVALID");
    return { kind: "bot", bot };
  }
  throw new RpcFail(400, "PEER_ID_INVALID");
}

function botPeer(s: ApiServer, c: ApiConn, p: any): Bot {
  const peer = peerOf(s, c, p);
  if (peer.kind !== "bot") throw new RpcFail(400, "BOT_INVALID");
  return peer.bot;
}

/** Translates the world's Bot-API-flavoured errors into MTProto RPC errors. */
export function rpcFromWorld(e: WorldError): RpcFail {
  const d = e.description;
  const tail = d.replace(/^[A-Za-z ]+: /, "");
  if (/^[A-Z0-9_]+$/.test(tail)) return new RpcFail(e.code === 403 ? 403 : 400, tail);
  if (/user not found|chat not found/.test(d)) return new RpcFail(400, "USER_ID_INVALID");
  if (/bot not found/.test(d)) return new RpcFail(400, "BOT_INVALID");
  if (/blocked/.test(d)) return new RpcFail(400, "USER_IS_BLOCKED");
  if (/text is empty/.test(d)) return new RpcFail(400, "MESSAGE_EMPTY");
  return new RpcFail(e.code >= 400 && e.code < 500 ? e.code : 400, "INPUT_REQUEST_INVALID");
}

// ---- handlers ----

function config(s: ApiServer): Api.Config {
  const now = s.nowSec();
  return new Api.Config({
    date: now,
    expires: now + 3600,
    testMode: false,
    thisDc: 2,
    dcOptions: [1, 2, 3, 4, 5].map((id) => new Api.DcOption({ id, ipAddress: s.host, port: s.port })),
    dcTxtDomainName: "sandbox.invalid",
    chatSizeMax: 200,
    megagroupSizeMax: 200000,
    forwardedCountMax: 100,
    onlineUpdatePeriodMs: 210000,
    offlineBlurTimeoutMs: 5000,
    offlineIdleTimeoutMs: 30000,
    onlineCloudTimeoutMs: 300000,
    notifyCloudDelayMs: 30000,
    notifyDefaultDelayMs: 1500,
    pushChatPeriodMs: 60000,
    pushChatLimit: 2,
    editTimeLimit: 172800,
    revokeTimeLimit: 172800,
    revokePmTimeLimit: 2147483647,
    ratingEDecay: 2419200,
    stickersRecentLimit: 200,
    channelsReadMediaPeriod: 604800,
    callReceiveTimeoutMs: 20000,
    callRingTimeoutMs: 90000,
    callConnectTimeoutMs: 30000,
    callPacketTimeoutMs: 10000,
    meUrlPrefix: "https://t.me/",
    captionLengthMax: 1024,
    messageLengthMax: 4096,
    webfileDcId: 2,
  });
}

function getHistory(s: ApiServer, c: ApiConn, r: Api.messages.GetHistory): Api.messages.Messages {
  const peer = peerOf(s, c, r.peer);
  const botId = peer.kind === "bot" ? peer.bot.id : 0;
  if (botId) c.lastBotId = botId;
  const all = s.world.history(c.userId, botId).reverse(); // newest first
  let start = 0;
  if (r.offsetId > 0) {
    start = all.findIndex((m) => m.userMsgId < r.offsetId);
    if (start < 0) start = all.length;
  }
  start = Math.max(0, start + (r.addOffset ?? 0));
  const limit = r.limit > 0 ? Math.min(r.limit, 100) : 20;
  const page = all
    .slice(start, start + limit)
    .filter((m) => (r.maxId > 0 ? m.userMsgId < r.maxId : true) && (r.minId > 0 ? m.userMsgId > r.minId : true));
  return new Api.messages.Messages({ messages: page.map(apiMessage), chats: [], users: usersFor(s, c.userId, [botId]) });
}

/** messages.getMessages: ids are the account's, so they name one message each across all chats. */
function getMessages(s: ApiServer, c: ApiConn, r: Api.messages.GetMessages): Api.messages.Messages {
  const found: Message[] = [];
  for (const input of r.id) {
    const m = input instanceof Api.InputMessageID ? s.world.userMessage(c.userId, input.id) : undefined;
    if (m) found.push(m);
  }
  return new Api.messages.Messages({
    messages: found.map(apiMessage),
    chats: [],
    users: usersFor(s, c.userId, found.map((m) => m.botId)),
  });
}

function sendMessage(s: ApiServer, c: ApiConn, r: Api.messages.SendMessage): Api.UpdateShortSentMessage {
  if (!r.message) throw new RpcFail(400, "MESSAGE_EMPTY");
  const peer = peerOf(s, c, r.peer);
  let m: Message;
  let pts: number;
  if (peer.kind === "self") {
    c.sendingToSelf = true;
    try {
      m = s.world.userSendsToSelf(c.userId, r.message); // logged (and pushed to other sessions) as the world tells
    } finally {
      c.sendingToSelf = false;
    }
    pts = s.updates(c.userId).pts;
  } else {
    c.lastBotId = peer.bot.id;
    m = s.world.userSends(c.userId, peer.bot.id, r.message);
    pts = s.updates(c.userId).record({ kind: "new", message: m }).pts;
  }
  return new Api.UpdateShortSentMessage({ out: true, id: m.userMsgId, pts, ptsCount: 1, date: m.date });
}

async function getBotCallbackAnswer(s: ApiServer, c: ApiConn, r: Api.messages.GetBotCallbackAnswer): Promise<Api.messages.BotCallbackAnswer> {
  const bot = botPeer(s, c, r.peer);
  c.lastBotId = bot.id;
  if (!r.data) throw new RpcFail(400, "DATA_INVALID");
  const m = s.world.userMessage(c.userId, num(r.msgId));
  if (!m || m.botId !== bot.id) throw new RpcFail(400, "MESSAGE_ID_INVALID");
  const a = await s.world.pressButton(c.userId, bot.id, m.id, Buffer.from(r.data).toString());
  if (a.timeout) throw new RpcFail(400, "BOT_RESPONSE_TIMEOUT");
  return new Api.messages.BotCallbackAnswer({
    alert: a.show_alert || undefined,
    hasUrl: a.url ? true : undefined,
    message: a.text,
    url: a.url,
    cacheTime: 0,
  });
}

function getUsers(s: ApiServer, c: ApiConn, r: Api.users.GetUsers): Api.User[] {
  const out: Api.User[] = [];
  for (const input of r.id) {
    try {
      const p = peerOf(s, c, input);
      out.push(p.kind === "self" ? apiSelf(s, s.world.mustUser(c.userId)) : apiBot(s, p.bot));
    } catch (e) {
      if (!(e instanceof RpcFail)) throw e; // Telegram leaves unknown users out of the vector
    }
  }
  return out;
}

function getFullUser(s: ApiServer, c: ApiConn, r: Api.users.GetFullUser): Api.users.UserFull {
  const p = peerOf(s, c, r.id);
  const user = p.kind === "self" ? apiSelf(s, s.world.mustUser(c.userId)) : apiBot(s, p.bot);
  const fullUser = new Api.UserFull({
    id: user.id,
    settings: new Api.PeerSettings({}),
    notifySettings: new Api.PeerNotifySettings({}),
    commonChatsCount: 0,
    botInfo:
      p.kind === "bot"
        ? new Api.BotInfo({
            userId: user.id,
            description: "",
            commands: p.bot.commands.map((cmd) => new Api.BotCommand({ command: cmd.command, description: cmd.description })),
          })
        : undefined,
  });
  return new Api.users.UserFull({ fullUser, chats: [], users: [user] });
}

function resolveUsername(s: ApiServer, c: ApiConn, r: Api.contacts.ResolveUsername): Api.contacts.ResolvedPeer {
  const hit = s.world.resolveUsername(r.username);
  if (!hit) throw new RpcFail(400, "USERNAME_NOT_OCCUPIED");
  if (hit.kind === "bot") {
    return new Api.contacts.ResolvedPeer({ peer: new Api.PeerUser({ userId: big(hit.bot.id) }), chats: [], users: [apiBot(s, hit.bot)] });
  }
  if (hit.user.id !== c.userId) throw new RpcFail(400, "USERNAME_NOT_OCCUPIED"); // the sandbox has no user-to-user chats
  const self = apiSelf(s, hit.user);
  return new Api.contacts.ResolvedPeer({ peer: new Api.PeerUser({ userId: self.id }), chats: [], users: [self] });
}

const affected = (s: ApiServer, c: ApiConn) => new Api.messages.AffectedMessages({ pts: s.updates(c.userId).pts, ptsCount: 0 });

function updatesState(s: ApiServer, c: ApiConn): Api.updates.State {
  return new Api.updates.State({ pts: s.updates(c.userId).pts, qts: 0, date: s.nowSec(), seq: 0, unreadCount: 0 });
}

/** What the client missed since its pts: new messages, and edits and deletions as updates. */
function getDifference(s: ApiServer, c: ApiConn, r: Api.updates.GetDifference): Api.updates.TypeDifference {
  const missed = s.updates(c.userId).since(r.pts);
  if (!missed.length) return new Api.updates.DifferenceEmpty({ date: s.nowSec(), seq: 0 });
  const newMessages = missed.flatMap((u) => (u.kind === "new" ? [apiMessage(u.message)] : []));
  const otherUpdates = missed.filter((u) => u.kind !== "new").map(apiUpdate);
  const botIds = missed.flatMap((u) => ("message" in u ? [u.message.botId] : []));
  return new Api.updates.Difference({
    newMessages,
    newEncryptedMessages: [],
    otherUpdates,
    chats: [],
    users: usersFor(s, c.userId, botIds),
    state: updatesState(s, c),
  });
}

/** The user's chats (with bots, and Saved Messages) newest first, each with its last message. */
function dialogs(s: ApiServer, c: ApiConn, botIds: number[]): { dialogs: Api.Dialog[]; messages: Api.Message[]; users: Api.User[] } {
  const last = botIds
    .map((botId) => s.world.history(c.userId, botId).at(-1))
    .filter((m): m is Message => m !== undefined)
    .sort((a, b) => b.userMsgId - a.userMsgId);
  const dialogs = last.map(
    (m) =>
      new Api.Dialog({
        peer: new Api.PeerUser({ userId: big(m.botId || m.userId) }),
        topMessage: m.userMsgId,
        readInboxMaxId: m.userMsgId,
        readOutboxMaxId: m.userMsgId,
        unreadCount: 0,
        unreadMentionsCount: 0,
        unreadReactionsCount: 0,
        notifySettings: new Api.PeerNotifySettings({}),
      }),
  );
  return { dialogs, messages: last.map(apiMessage), users: usersFor(s, c.userId, last.map((m) => m.botId)) };
}

function getDialogs(s: ApiServer, c: ApiConn): Api.messages.Dialogs {
  return new Api.messages.Dialogs({ ...dialogs(s, c, s.world.chatsOf(c.userId)), chats: [] });
}

function getPeerDialogs(s: ApiServer, c: ApiConn, r: Api.messages.GetPeerDialogs): Api.messages.PeerDialogs {
  const botIds = r.peers.map((p) => {
    const peer = peerOf(s, c, p instanceof Api.InputDialogPeer ? p.peer : p);
    return peer.kind === "bot" ? peer.bot.id : 0;
  });
  return new Api.messages.PeerDialogs({ ...dialogs(s, c, botIds), chats: [], state: updatesState(s, c) });
}

export const handlers: Record<string, Handler> = {
  "help.GetConfig": (s) => config(s),
  "help.GetNearestDc": () => new Api.NearestDc({ country: "XX", thisDc: 2, nearestDc: 2 }),
  // gramjs asks for it on every connect; the sandbox has no app settings to give.
  "help.GetAppConfig": () => new Api.help.AppConfig({ hash: 0, config: new Api.JsonObject({ value: [] }) }),
  "updates.GetState": updatesState,
  "updates.GetDifference": getDifference,
  "messages.GetDialogs": getDialogs,
  "messages.GetPeerDialogs": getPeerDialogs,
  "auth.LogOut": (s, c) => {
    s.logOut(c);
    return new Api.auth.LoggedOut({});
  },
  "users.GetUsers": getUsers,
  "users.GetFullUser": getFullUser,
  "contacts.ResolveUsername": resolveUsername,
  "messages.SendMessage": sendMessage,
  "messages.GetHistory": getHistory,
  "messages.GetMessages": getMessages,
  "messages.GetBotCallbackAnswer": getBotCallbackAnswer,
  "messages.ReadHistory": affected,
  "messages.SetTyping": () => true,
  "account.UpdateStatus": () => true,
  "account.RegisterDevice": () => true,
  "contacts.Unblock": () => true,
  "messages.StartBot": (s, c, r: Api.messages.StartBot) => {
    const bot = botPeer(s, c, r.bot);
    s.world.userSends(c.userId, bot.id, r.startParam ? `/start ${r.startParam}` : "/start");
    return new Api.Updates({ updates: [], users: [apiBot(s, bot)], chats: [], date: s.nowSec(), seq: 0 });
  },
};

/** Runs one API request; throws RpcFail for Telegram-style errors. */
export async function invoke(s: ApiServer, c: ApiConn, method: string, req: unknown): Promise<TlResult> {
  const h = handlers[method];
  if (!h) throw new RpcFail(400, "INPUT_METHOD_INVALID");
  try {
    return await h(s, c, req);
  } catch (e) {
    if (e instanceof WorldError) throw rpcFromWorld(e);
    throw e;
  }
}
