// The sandbox's in-memory Telegram: users, bots, private chats, messages, callback queries.
// Both protocol fronts (botapi.ts for bots, mtproto.ts for users) are views onto this one world,
// so a message a bot sends over HTTP is the message a gramjs client receives over MTProto.
// Every event is stamped with performance.now() so benchmarks can time reactions server-side.

export interface InlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}
export interface InlineKeyboard {
  inline_keyboard: InlineButton[][];
}
export interface ReplyKeyboard {
  keyboard: { text: string }[][];
  resize_keyboard?: boolean;
  one_time_keyboard?: boolean;
}
export type ReplyMarkup = InlineKeyboard | ReplyKeyboard | { remove_keyboard: true };

/** Formatting of a message's text, as the Bot API's MessageEntity (offsets in UTF-16 code units). */
export interface MessageEntity {
  type: "bold" | "italic" | "underline" | "strikethrough" | "spoiler" | "code" | "pre" | "text_link" | "custom_emoji" | "blockquote" | "expandable_blockquote";
  offset: number;
  length: number;
  /** text_link */
  url?: string;
  /** pre */
  language?: string;
  /** custom_emoji */
  custom_emoji_id?: string;
}

export interface User {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  phone?: string;
  /** Bots this user has blocked: their sends fail with 403. */
  blocked: Set<number>;
}

export interface Bot {
  id: number;
  token: string;
  username: string;
  first_name: string;
  updates: Update[];
  nextUpdateId: number;
  /** Long-poll waiters, woken when an update is queued. */
  waiters: Set<() => void>;
  commands: { command: string; description: string }[];
}

/** A message in a private chat between a user and a bot (or a user's Saved Messages, botId 0). */
export interface Message {
  /** The id in this chat as the bot sees it (Bot API). */
  id: number;
  /** The id in the user's account (MTProto): Telegram numbers a user's private-chat messages once per account. */
  userMsgId: number;
  userId: number;
  botId: number;
  /** true when the bot wrote it, false when the user did. */
  outgoingFromBot: boolean;
  text: string;
  /** Formatting the bot asked for (parse_mode or entities); commands are not stored here. */
  entities?: MessageEntity[];
  date: number; // unix seconds
  editDate?: number;
  replyMarkup?: ReplyMarkup;
  deleted?: boolean;
  /** performance.now() of the last send or edit. */
  ts: number;
}

export interface CallbackQuery {
  id: string;
  userId: number;
  botId: number;
  messageId: number;
  data: string;
  ts: number;
  answered: boolean;
  resolve: (a: CallbackAnswer) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface CallbackAnswer {
  text?: string;
  show_alert?: boolean;
  url?: string;
  /** true when the bot did not answer in time (MTProto: BOT_RESPONSE_TIMEOUT). */
  timeout?: boolean;
}

/** The user blocked (status "kicked") or unblocked ("member") the bot: Bot API my_chat_member. */
export interface ChatMemberChange {
  userId: number;
  date: number; // unix seconds
  oldStatus: "member" | "kicked";
  newStatus: "member" | "kicked";
}

export type Update =
  | { update_id: number; kind: "message"; message: Message }
  | { update_id: number; kind: "callback_query"; query: CallbackQuery }
  | { update_id: number; kind: "my_chat_member"; change: ChatMemberChange };

/** What a user-side view (an MTProto session) is told about. */
export type UserEvent =
  | { type: "newMessage"; message: Message }
  | { type: "editMessage"; message: Message }
  | { type: "deleteMessages"; userId: number; ids: number[]; userMsgIds: number[] };

/** Everything observable, for benchmarks and traces. */
export type WorldEvent =
  | { type: "userMessage"; message: Message; ts: number }
  | { type: "botMessage"; message: Message; ts: number }
  | { type: "botEdit"; message: Message; ts: number }
  | { type: "callbackQuery"; query: CallbackQuery; ts: number }
  | { type: "callbackAnswer"; query: CallbackQuery; ts: number }
  /** The MTProto front wrote an update about this message to a client's socket. */
  | { type: "mtprotoPush"; userId: number; messageId: number; ts: number }
  /** A request from a client (method: gramjs className, e.g. "messages.SendMessage"); ts: when its bytes were read, before decoding. */
  | { type: "mtprotoRequest"; userId: number; method: string; ts: number };

export class WorldError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface WorldOptions {
  /** How long a callback query waits for the bot's answer (Telegram: about 10-15 s). */
  callbackTimeoutMs?: number;
  /** Max updates kept per bot before the oldest are dropped (Telegram keeps 24 h). */
  maxQueuedUpdates?: number;
}

const TOKEN_RE = /^(\d{1,20}):([A-Za-z0-9_-]{1,100})$/;

export class World {
  readonly users = new Map<number, User>();
  readonly bots = new Map<number, Bot>();
  private readonly botsByToken = new Map<string, Bot>();
  private readonly byUsername = new Map<string, { kind: "user" | "bot"; id: number }>();
  private readonly usersByPhone = new Map<string, number>();
  /** chat key -> messages by id */
  private readonly chats = new Map<string, Map<number, Message>>();
  private readonly lastMessageId = new Map<string, number>();
  /** Per user: the last account-wide message id, and messages by that id. */
  private readonly lastUserMsgId = new Map<number, number>();
  private readonly byUserMsgId = new Map<number, Map<number, Message>>();
  private readonly userListeners = new Map<number, Set<(e: UserEvent) => void>>();
  private readonly observers = new Set<(e: WorldEvent) => void>();
  private readonly queries = new Map<string, CallbackQuery>();
  private nextUserId = 1_000_001;
  private nextQueryId = 1;
  readonly callbackTimeoutMs: number;
  private readonly maxQueuedUpdates: number;

  constructor(opts: WorldOptions = {}) {
    this.callbackTimeoutMs = opts.callbackTimeoutMs ?? 15_000;
    this.maxQueuedUpdates = opts.maxQueuedUpdates ?? 100_000;
  }

  // ---- users and bots ----

  createUser(p: { first_name?: string; last_name?: string; username?: string; phone?: string; id?: number } = {}): User {
    const id = p.id ?? this.nextUserId++;
    if (this.users.has(id) || this.bots.has(id)) throw new Error(`id ${id} is taken`);
    if (p.username && this.byUsername.has(p.username.toLowerCase())) throw new Error(`username @${p.username} is taken`);
    if (p.phone && this.usersByPhone.has(normalisePhone(p.phone))) throw new Error(`phone ${p.phone} is taken`);
    const user: User = {
      id,
      first_name: p.first_name ?? `User ${id}`,
      last_name: p.last_name,
      username: p.username,
      phone: p.phone ? normalisePhone(p.phone) : undefined,
      blocked: new Set(),
    };
    this.users.set(id, user);
    if (user.username) this.byUsername.set(user.username.toLowerCase(), { kind: "user", id });
    if (user.phone) this.usersByPhone.set(user.phone, id);
    return user;
  }

  userByPhone(phone: string): User | undefined {
    const id = this.usersByPhone.get(normalisePhone(phone));
    return id === undefined ? undefined : this.users.get(id);
  }

  /** The user with this phone, created on first use (how the sandbox "logs in" a client). */
  userForPhone(phone: string, first_name?: string): User {
    return this.userByPhone(phone) ?? this.createUser({ phone, first_name });
  }

  /** Any token of the form `<digits>:<secret>` is a valid bot; it is created on first use. */
  botForToken(token: string, username?: string): Bot {
    const existing = this.botsByToken.get(token);
    if (existing) return existing;
    const m = TOKEN_RE.exec(token);
    if (!m) throw new WorldError(401, "Unauthorized");
    const id = Number(m[1]);
    if (this.bots.has(id) || this.users.has(id)) throw new WorldError(401, "Unauthorized");
    const name = username ?? `sandbox_${id}_bot`;
    if (this.byUsername.has(name.toLowerCase())) throw new Error(`username @${name} is taken`);
    const bot: Bot = {
      id,
      token,
      username: name,
      first_name: name,
      updates: [],
      nextUpdateId: 1,
      waiters: new Set(),
      commands: [],
    };
    this.bots.set(id, bot);
    this.botsByToken.set(token, bot);
    this.byUsername.set(name.toLowerCase(), { kind: "bot", id });
    return bot;
  }

  botByToken(token: string): Bot | undefined {
    return this.botsByToken.get(token);
  }

  resolveUsername(username: string): { kind: "user"; user: User } | { kind: "bot"; bot: Bot } | undefined {
    const hit = this.byUsername.get(username.replace(/^@/, "").toLowerCase());
    if (!hit) return undefined;
    if (hit.kind === "bot") {
      const bot = this.bots.get(hit.id);
      return bot && { kind: "bot", bot };
    }
    const user = this.users.get(hit.id);
    return user && { kind: "user", user };
  }

  botByUsername(username: string): Bot | undefined {
    const r = this.resolveUsername(username);
    return r?.kind === "bot" ? r.bot : undefined;
  }

  /** The user blocks or unblocks the bot; the bot hears of a change as Telegram tells it (my_chat_member). */
  setBlocked(userId: number, botId: number, blocked: boolean): void {
    const u = this.mustUser(userId);
    const bot = this.mustBot(botId);
    if (u.blocked.has(bot.id) === blocked) return;
    if (blocked) u.blocked.add(bot.id);
    else u.blocked.delete(bot.id);
    const [oldStatus, newStatus] = blocked ? (["member", "kicked"] as const) : (["kicked", "member"] as const);
    this.queueUpdate(bot, { kind: "my_chat_member", change: { userId, date: Math.floor(Date.now() / 1000), oldStatus, newStatus } });
  }

  // ---- observation ----

  /** Subscribe to what a user's own Telegram app would see. Returns an unsubscribe function. */
  listen(userId: number, fn: (e: UserEvent) => void): () => void {
    let set = this.userListeners.get(userId);
    if (!set) this.userListeners.set(userId, (set = new Set()));
    set.add(fn);
    return () => set!.delete(fn);
  }

  /** Subscribe to every event in the world (benchmarks, traces). */
  observe(fn: (e: WorldEvent) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  private emitUser(userId: number, e: UserEvent): void {
    const set = this.userListeners.get(userId);
    if (set) for (const fn of set) fn(e);
  }

  /** Whether anyone observes the world: protocol fronts skip building trace events otherwise. */
  get observed(): boolean {
    return this.observers.size > 0;
  }

  /** Lets a protocol front (mtproto.ts) report its own events to the world's observers. */
  trace(e: WorldEvent): void {
    this.emit(e);
  }

  private emit(e: WorldEvent): void {
    for (const fn of this.observers) fn(e);
  }

  // ---- chats ----

  private chatKey(userId: number, botId: number): string {
    return `${userId}:${botId}`;
  }

  /** Messages of a chat, oldest first. botId 0 is the user's Saved Messages. */
  history(userId: number, botId: number): Message[] {
    const chat = this.chats.get(this.chatKey(userId, botId));
    return chat ? [...chat.values()].filter((m) => !m.deleted) : [];
  }

  /** Users who have a chat with this bot, in the order their chats began. */
  chatUsersOf(botId: number): number[] {
    const suffix = `:${botId}`;
    const ids: number[] = [];
    for (const key of this.chats.keys()) if (key.endsWith(suffix)) ids.push(Number(key.slice(0, -suffix.length)));
    return ids;
  }

  getMessage(userId: number, botId: number, id: number): Message | undefined {
    const m = this.chats.get(this.chatKey(userId, botId))?.get(id);
    return m && !m.deleted ? m : undefined;
  }

  /** Whether the user ever wrote to the bot (a bot cannot start a conversation). */
  hasChat(userId: number, botId: number): boolean {
    return this.chats.has(this.chatKey(userId, botId));
  }

  private addMessage(userId: number, botId: number, outgoingFromBot: boolean, text: string, replyMarkup?: ReplyMarkup): Message {
    const key = this.chatKey(userId, botId);
    let chat = this.chats.get(key);
    if (!chat) this.chats.set(key, (chat = new Map()));
    const id = (this.lastMessageId.get(key) ?? 0) + 1;
    this.lastMessageId.set(key, id);
    const userMsgId = (this.lastUserMsgId.get(userId) ?? 0) + 1;
    this.lastUserMsgId.set(userId, userMsgId);
    const msg: Message = {
      id,
      userMsgId,
      userId,
      botId,
      outgoingFromBot,
      text,
      date: Math.floor(Date.now() / 1000),
      replyMarkup,
      ts: performance.now(),
    };
    chat.set(id, msg);
    let mine = this.byUserMsgId.get(userId);
    if (!mine) this.byUserMsgId.set(userId, (mine = new Map()));
    mine.set(userMsgId, msg);
    return msg;
  }

  /** A message by its id in the user's account (any of their chats). */
  userMessage(userId: number, userMsgId: number): Message | undefined {
    const m = this.byUserMsgId.get(userId)?.get(userMsgId);
    return m && !m.deleted ? m : undefined;
  }

  /** The bots the user has a chat with (0: Saved Messages), for the dialog list. */
  chatsOf(userId: number): number[] {
    const out: number[] = [];
    for (const key of this.chats.keys()) {
      const [u, b] = key.split(":").map(Number);
      if (u === userId && this.history(userId, b!).length) out.push(b!);
    }
    return out;
  }

  // ---- user actions (what a person, or a userbot over MTProto, does) ----

  /** A user sends text to a bot; the bot gets it as an update. */
  userSends(userId: number, botId: number, text: string): Message {
    const user = this.mustUser(userId);
    const bot = this.mustBot(botId);
    if (user.blocked.has(bot.id)) this.setBlocked(userId, botId, false); // writing to a bot unblocks it, as in Telegram
    const msg = this.addMessage(userId, botId, false, text);
    this.emit({ type: "userMessage", message: msg, ts: msg.ts });
    this.queueUpdate(bot, { kind: "message", message: msg });
    return msg;
  }

  /** A user writes to their own Saved Messages. */
  userSendsToSelf(userId: number, text: string): Message {
    this.mustUser(userId);
    const msg = this.addMessage(userId, 0, false, text);
    this.emitUser(userId, { type: "newMessage", message: msg });
    return msg;
  }

  /**
   * A user presses an inline button. Resolves with the bot's answer, or `{timeout: true}`
   * when the bot does not answer within callbackTimeoutMs.
   */
  pressButton(userId: number, botId: number, messageId: number, data: string): Promise<CallbackAnswer> {
    this.mustUser(userId);
    const bot = this.mustBot(botId);
    const msg = this.getMessage(userId, botId, messageId);
    if (!msg || !msg.outgoingFromBot) throw new WorldError(400, "Bad Request: MESSAGE_ID_INVALID");
    const buttons = msg.replyMarkup && "inline_keyboard" in msg.replyMarkup ? msg.replyMarkup.inline_keyboard.flat() : [];
    if (!buttons.some((b) => b.callback_data === data)) throw new WorldError(400, "Bad Request: DATA_INVALID");
    return this.queueCallback(bot, userId, messageId, data);
  }

  /** Like pressButton but without checking the data is on the message: forged callback data. */
  forgeCallback(userId: number, botId: number, messageId: number, data: string): Promise<CallbackAnswer> {
    this.mustUser(userId);
    return this.queueCallback(this.mustBot(botId), userId, messageId, data);
  }

  private queueCallback(bot: Bot, userId: number, messageId: number, data: string): Promise<CallbackAnswer> {
    return new Promise<CallbackAnswer>((resolve) => {
      const id = `${bot.id}${String(this.nextQueryId++).padStart(9, "0")}`;
      const query: CallbackQuery = {
        id,
        userId,
        botId: bot.id,
        messageId,
        data,
        ts: performance.now(),
        answered: false,
        resolve,
        timer: setTimeout(() => {
          if (query.answered) return;
          query.answered = true; // a late answerCallbackQuery now gets "query is too old"
          resolve({ timeout: true });
        }, this.callbackTimeoutMs),
      };
      this.queries.set(id, query);
      this.emit({ type: "callbackQuery", query, ts: query.ts });
      this.queueUpdate(bot, { kind: "callback_query", query });
    });
  }

  // ---- bot actions (what the Bot API front calls) ----

  private checkCanSend(bot: Bot, userId: number): User {
    const user = this.users.get(userId);
    if (!user) throw new WorldError(400, "Bad Request: chat not found");
    if (user.blocked.has(bot.id)) throw new WorldError(403, "Forbidden: bot was blocked by the user");
    if (!this.hasChat(userId, bot.id)) throw new WorldError(403, "Forbidden: bot can't initiate conversation with a user");
    return user;
  }

  botSends(botId: number, userId: number, text: string, replyMarkup?: ReplyMarkup, entities?: MessageEntity[]): Message {
    const bot = this.mustBot(botId);
    this.checkCanSend(bot, userId);
    if (!text) throw new WorldError(400, "Bad Request: message text is empty");
    const msg = this.addMessage(userId, botId, true, text, replyMarkup);
    if (entities?.length) msg.entities = entities;
    this.emit({ type: "botMessage", message: msg, ts: msg.ts });
    this.emitUser(userId, { type: "newMessage", message: msg });
    return msg;
  }

  /** A new text replaces the entities too (none given: plain text), as a Telegram edit does. */
  botEdits(botId: number, userId: number, messageId: number, edit: { text?: string; entities?: MessageEntity[]; replyMarkup?: ReplyMarkup | null }): Message {
    const bot = this.mustBot(botId);
    this.checkCanSend(bot, userId);
    const msg = this.getMessage(userId, botId, messageId);
    if (!msg) throw new WorldError(400, "Bad Request: message to edit not found");
    if (!msg.outgoingFromBot) throw new WorldError(400, "Bad Request: message can't be edited");
    const text = edit.text ?? msg.text;
    const markup = edit.replyMarkup === undefined ? msg.replyMarkup : edit.replyMarkup ?? undefined;
    const entities = edit.text === undefined ? msg.entities : edit.entities?.length ? edit.entities : undefined;
    if (
      text === msg.text &&
      JSON.stringify(entities ?? null) === JSON.stringify(msg.entities ?? null) &&
      JSON.stringify(markup ?? null) === JSON.stringify(msg.replyMarkup ?? null)
    ) {
      throw new WorldError(
        400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
      );
    }
    msg.text = text;
    if (entities) msg.entities = entities;
    else delete msg.entities;
    msg.replyMarkup = markup;
    msg.editDate = Math.floor(Date.now() / 1000);
    msg.ts = performance.now();
    this.emit({ type: "botEdit", message: msg, ts: msg.ts });
    this.emitUser(userId, { type: "editMessage", message: msg });
    return msg;
  }

  botDeletes(botId: number, userId: number, messageId: number): void {
    this.mustBot(botId);
    const msg = this.getMessage(userId, botId, messageId);
    if (!msg) throw new WorldError(400, "Bad Request: message to delete not found");
    msg.deleted = true;
    this.emitUser(userId, { type: "deleteMessages", userId, ids: [messageId], userMsgIds: [msg.userMsgId] });
  }

  answerCallback(botId: number, queryId: string, answer: Omit<CallbackAnswer, "timeout">): void {
    const q = this.queries.get(queryId);
    if (!q || q.botId !== botId || q.answered) {
      throw new WorldError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid");
    }
    q.answered = true;
    clearTimeout(q.timer);
    this.queries.delete(queryId);
    this.emit({ type: "callbackAnswer", query: q, ts: performance.now() });
    q.resolve(answer);
  }

  // ---- the bot's update queue (getUpdates) ----

  private queueUpdate(
    bot: Bot,
    u: { kind: "message"; message: Message } | { kind: "callback_query"; query: CallbackQuery } | { kind: "my_chat_member"; change: ChatMemberChange },
  ): void {
    bot.updates.push({ update_id: bot.nextUpdateId++, ...u } as Update);
    if (bot.updates.length > this.maxQueuedUpdates) bot.updates.splice(0, bot.updates.length - this.maxQueuedUpdates);
    const waiters = [...bot.waiters];
    bot.waiters.clear();
    for (const w of waiters) w();
  }

  /**
   * Telegram's getUpdates semantics: confirm (drop) updates below `offset`, then return up to
   * `limit` pending ones; wait up to `timeoutMs` for one to arrive when none is pending.
   */
  async takeUpdates(botId: number, offset: number, limit: number, timeoutMs: number, signal?: AbortSignal): Promise<Update[]> {
    const bot = this.mustBot(botId);
    if (offset > 0) {
      let drop = 0;
      while (drop < bot.updates.length && bot.updates[drop]!.update_id < offset) drop++;
      if (drop) bot.updates.splice(0, drop);
    } else if (offset < 0) {
      bot.updates.splice(0, Math.max(0, bot.updates.length + offset));
    }
    if (bot.updates.length === 0 && timeoutMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          bot.waiters.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        bot.waiters.add(wake);
        signal?.addEventListener("abort", wake);
      });
    }
    return bot.updates.slice(0, Math.max(1, Math.min(limit, 100)));
  }

  // ---- helpers ----

  mustUser(id: number): User {
    const u = this.users.get(id);
    if (!u) throw new WorldError(400, "Bad Request: user not found");
    return u;
  }

  mustBot(id: number): Bot {
    const b = this.bots.get(id);
    if (!b) throw new WorldError(400, "Bad Request: bot not found");
    return b;
  }
}

export function normalisePhone(phone: string): string {
  const digits = phone.replace(/[^\d]/g, "");
  return `+${digits}`;
}
