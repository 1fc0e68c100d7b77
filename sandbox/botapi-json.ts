// The sandbox's world as Bot API objects (Message, User, Update, ...), shaped as Telegram sends
// them, and reply markup as the Bot API accepts it, checked the way Telegram checks it.

import { WorldError, type Bot, type CallbackQuery, type ChatMemberChange, type InlineButton, type Message, type ReplyMarkup, type Update, type User, type World } from "./world.ts";

export function userJson(u: User) {
  const o: Record<string, unknown> = { id: u.id, is_bot: false, first_name: u.first_name };
  if (u.last_name) o.last_name = u.last_name;
  if (u.username) o.username = u.username;
  return o;
}

export function botUserJson(b: Bot) {
  return { id: b.id, is_bot: true, first_name: b.first_name, username: b.username };
}

export function getMeJson(b: Bot) {
  return {
    ...botUserJson(b),
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

export function chatJson(u: User) {
  const o: Record<string, unknown> = { id: u.id, type: "private", first_name: u.first_name };
  if (u.last_name) o.last_name = u.last_name;
  if (u.username) o.username = u.username;
  return o;
}

const COMMAND_RE = /(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?)(?=$|\s)/g;

/** Telegram marks commands in text as bot_command entities; gramio's bot.command() reads them. */
function commandEntities(text: string): { type: "bot_command"; offset: number; length: number }[] | undefined {
  if (!text.includes("/")) return undefined;
  let out: { type: "bot_command"; offset: number; length: number }[] | undefined;
  for (const m of text.matchAll(COMMAND_RE)) {
    (out ??= []).push({ type: "bot_command", offset: m.index + m[1]!.length, length: m[2]!.length });
  }
  return out;
}

/** The bot's formatting plus the commands Telegram finds in the text (not inside code or links). */
function messageEntities(m: Message): { type: string; offset: number; length: number }[] {
  const formatting = m.entities ?? [];
  const literal = formatting.filter((e) => e.type === "code" || e.type === "pre" || e.type === "text_link");
  const inLiteral = (c: { offset: number; length: number }) => literal.some((e) => c.offset < e.offset + e.length && e.offset < c.offset + c.length);
  const commands = (commandEntities(m.text) ?? []).filter((c) => !inLiteral(c));
  if (!commands.length) return formatting;
  return [...formatting, ...commands].sort((a, b) => a.offset - b.offset || b.length - a.length);
}

/** A message in the private chat of `user` with `bot`, as the bot sees it. */
export function messageJson(m: Message, user: User, bot: Bot) {
  const o: Record<string, unknown> = {
    message_id: m.id,
    from: m.outgoingFromBot ? botUserJson(bot) : userJson(user),
    chat: chatJson(user),
    date: m.date,
  };
  if (m.editDate !== undefined) o.edit_date = m.editDate;
  o.text = m.text;
  const entities = messageEntities(m);
  if (entities.length) o.entities = entities;
  // A Message carries only inline keyboards; reply keyboards live in the user's app.
  if (m.replyMarkup && "inline_keyboard" in m.replyMarkup) o.reply_markup = m.replyMarkup;
  return o;
}

function callbackQueryJson(world: World, q: CallbackQuery, user: User, bot: Bot) {
  const m = world.getMessage(q.userId, q.botId, q.messageId);
  return {
    id: q.id,
    from: userJson(user),
    // A deleted message arrives as an InaccessibleMessage (date 0), as in Telegram.
    message: m ? messageJson(m, user, bot) : { chat: chatJson(user), message_id: q.messageId, date: 0 },
    chat_instance: `${bot.id}${user.id}`,
    data: q.data,
  };
}

/** An Update with `update_id` as its first key: gramio takes the update's type from the second. */
export function updateJson(world: World, u: Update, bot: Bot) {
  if (u.kind === "message") {
    const user = world.users.get(u.message.userId)!;
    return { update_id: u.update_id, message: messageJson(u.message, user, bot) };
  }
  if (u.kind === "my_chat_member") {
    const user = world.users.get(u.change.userId)!;
    return { update_id: u.update_id, my_chat_member: chatMemberUpdatedJson(u.change, user, bot) };
  }
  const user = world.users.get(u.query.userId)!;
  return { update_id: u.update_id, callback_query: callbackQueryJson(world, u.query, user, bot) };
}

/** ChatMemberUpdated for the bot in a private chat: "kicked" (blocked, until_date 0 = forever) or "member". */
function chatMemberUpdatedJson(c: ChatMemberChange, user: User, bot: Bot) {
  const member = (status: ChatMemberChange["newStatus"]) =>
    status === "kicked" ? { user: botUserJson(bot), status, until_date: 0 } : { user: botUserJson(bot), status };
  return {
    chat: chatJson(user),
    from: userJson(user),
    date: c.date,
    old_chat_member: member(c.oldStatus),
    new_chat_member: member(c.newStatus),
  };
}

const BAD_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object";

/**
 * Reply markup from request parameters. `undefined` when absent or when it changes nothing the
 * sandbox models (force_reply). Throws Telegram's errors for malformed keyboards.
 */
export function parseMarkup(raw: unknown, inlineOnly: boolean): ReplyMarkup | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  let v = raw;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      throw new WorldError(400, BAD_MARKUP);
    }
  }
  if (!v || typeof v !== "object") throw new WorldError(400, BAD_MARKUP);
  const o = v as Record<string, unknown>;
  if ("inline_keyboard" in o) return { inline_keyboard: rows(o.inline_keyboard, inlineButton) };
  if (inlineOnly) throw new WorldError(400, "Bad Request: inline keyboard expected");
  if ("keyboard" in o) {
    const k: ReplyMarkup = { keyboard: rows(o.keyboard, replyButton) };
    if (o.resize_keyboard === true) k.resize_keyboard = true;
    if (o.one_time_keyboard === true) k.one_time_keyboard = true;
    return k;
  }
  if (o.remove_keyboard === true) return { remove_keyboard: true };
  if (o.force_reply === true) return undefined;
  throw new WorldError(400, BAD_MARKUP);
}

function rows<T>(v: unknown, button: (b: unknown) => T): T[][] {
  if (!Array.isArray(v) || !v.every(Array.isArray)) throw new WorldError(400, BAD_MARKUP);
  return (v as unknown[][]).map((row) => row.map(button));
}

function inlineButton(b: unknown): InlineButton {
  if (!b || typeof b !== "object") throw new WorldError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  const o = b as Record<string, unknown>;
  if (typeof o.text !== "string" || !o.text) throw new WorldError(400, "Bad Request: can't parse inline keyboard button: Field \"text\" must be of type String");
  if (typeof o.callback_data === "string") {
    if (!o.callback_data || Buffer.byteLength(o.callback_data) > 64) throw new WorldError(400, "Bad Request: BUTTON_DATA_INVALID");
    return { text: o.text, callback_data: o.callback_data };
  }
  if (typeof o.url === "string") return { text: o.text, url: o.url };
  // Other kinds (web_app, switch_inline_query, ...) are shown but do nothing in the sandbox.
  if (Object.keys(o).length > 1) return { text: o.text };
  throw new WorldError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
}

function replyButton(b: unknown): { text: string } {
  if (typeof b === "string" && b) return { text: b };
  if (b && typeof b === "object" && typeof (b as { text?: unknown }).text === "string") return { text: (b as { text: string }).text };
  throw new WorldError(400, "Bad Request: can't parse keyboard button: Field \"text\" must be of type String");
}
