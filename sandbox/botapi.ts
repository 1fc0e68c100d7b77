// The sandbox's Bot API: `/bot<token>/<method>` requests, as gramio (or curl) sends them, served
// from the in-memory World with Telegram's response shapes and error texts.

import { formatText } from "./botapi-format.ts";
import { getMeJson, messageJson, parseMarkup, updateJson } from "./botapi-json.ts";
import { int, optBool, optInt, optJson, optStr, readParams, type Params } from "./params.ts";
import { rateLimiterFor, type RateLimiter, type RateLimitSetting } from "./ratelimit.ts";
import { WorldError, type Bot, type MessageEntity, type Update, type User, type World } from "./world.ts";

export interface BotApiOptions {
  /** Telegram's flood limits on sends and edits (429 with retry_after). Off by default. */
  rateLimit?: RateLimitSetting;
}

/** A Telegram error with `parameters` (retry_after for 429). */
export class ApiError extends WorldError {
  constructor(
    code: number,
    description: string,
    readonly parameters?: { retry_after?: number },
  ) {
    super(code, description);
  }
}

interface Call {
  bot: Bot;
  p: Params;
  req: Request;
}

type Method = (c: Call) => unknown;

const MAX_TEXT = 4096;
const MAX_POLL_SECONDS = 600;
const CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

export class BotApi {
  readonly limiter: RateLimiter | undefined;
  private readonly methods: Record<string, Method>;
  /** The long poll each bot has open: a newer getUpdates ends it with 409, as Telegram does. */
  private readonly polls = new Map<number, AbortController>();
  /** allowed_updates per bot; Telegram remembers the last list given. */
  private readonly allowed = new Map<number, Set<string>>();

  constructor(
    readonly world: World,
    opts: BotApiOptions = {},
  ) {
    this.limiter = rateLimiterFor(opts.rateLimit);
    this.methods = this.table();
  }

  /** Serve `path` ("/bot<token>/<method>") with query string `search` (no "?"). */
  async handle(req: Request, path: string, search: string): Promise<Response> {
    try {
      const slash = path.indexOf("/", 4);
      if (slash < 0) throw new WorldError(404, "Not Found");
      const bot = this.authenticate(path.slice(4, slash));
      let name = path.slice(slash + 1).toLowerCase();
      if (name.startsWith("test/")) name = name.slice(5);
      const method = this.methods[name];
      if (!method) throw new WorldError(404, "Not Found");
      const result = await method({ bot, p: await readParams(req, search), req });
      return Response.json({ ok: true, result });
    } catch (e) {
      return errorResponse(e);
    }
  }

  private authenticate(rawToken: string): Bot {
    const token = rawToken.includes("%") ? decodeURIComponent(rawToken) : rawToken;
    const bot = this.world.botByToken(token);
    if (bot) return bot;
    try {
      return this.world.botForToken(token);
    } catch {
      throw new WorldError(401, "Unauthorized");
    }
  }

  private user(p: Params): User {
    const raw = p.chat_id;
    if (raw === undefined || raw === null || raw === "") throw new WorldError(400, "Bad Request: chat_id is empty");
    const id = typeof raw === "number" ? raw : typeof raw === "string" && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
    const user = this.world.users.get(id);
    if (!user) throw new WorldError(400, "Bad Request: chat not found");
    return user;
  }

  private throttle(bot: Bot, chatId: number): void {
    const wait = this.limiter?.take(bot.id, chatId) ?? 0;
    if (wait) throw new ApiError(429, `Too Many Requests: retry after ${wait}`, { retry_after: wait });
  }

  private edit(c: Call, edit: { text?: string; entities?: MessageEntity[] }) {
    if (c.p.inline_message_id !== undefined) throw new WorldError(400, "Bad Request: inline messages are not supported by the sandbox");
    const user = this.user(c.p);
    const messageId = optInt(c.p, "message_id");
    if (messageId === undefined) throw new WorldError(400, "Bad Request: message identifier is not specified");
    // As in Telegram, an edit without reply_markup removes the inline keyboard.
    const markup = parseMarkup(c.p.reply_markup, true) ?? null;
    if (this.limiter?.opts.countEdits) this.throttle(c.bot, user.id);
    const m = this.world.botEdits(c.bot.id, user.id, messageId, { ...edit, replyMarkup: markup });
    return messageJson(m, user, c.bot);
  }

  private async getUpdates({ bot, p, req }: Call) {
    const offset = optInt(p, "offset") ?? 0;
    const limit = Math.min(100, Math.max(1, optInt(p, "limit") ?? 100));
    const timeoutMs = Math.min(MAX_POLL_SECONDS, Math.max(0, optInt(p, "timeout") ?? 0)) * 1000;
    const allowedRaw = optJson(p, "allowed_updates", "can't parse allowed updates");
    if (allowedRaw !== undefined) {
      if (!Array.isArray(allowedRaw)) throw new WorldError(400, "Bad Request: can't parse allowed updates");
      if (allowedRaw.length) this.allowed.set(bot.id, new Set(allowedRaw.map(String)));
      else this.allowed.delete(bot.id);
    }
    this.polls.get(bot.id)?.abort();
    const poll = new AbortController();
    this.polls.set(bot.id, poll);
    const onClientGone = () => poll.abort();
    req.signal.addEventListener("abort", onClientGone);
    try {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const left = Math.max(0, deadline - performance.now());
        let updates = await this.world.takeUpdates(bot.id, offset, limit, left, poll.signal);
        if (poll.signal.aborted && !req.signal.aborted) throw new WorldError(409, CONFLICT);
        const allowed = this.allowed.get(bot.id);
        if (allowed && updates.some((u) => !allowed.has(u.kind))) {
          bot.updates = bot.updates.filter((u) => allowed.has(u.kind)); // Telegram never delivers them
          updates = updates.filter((u) => allowed.has(u.kind));
          if (!updates.length && left > 0 && !poll.signal.aborted) continue;
        }
        return updates.map((u: Update) => updateJson(this.world, u, bot));
      }
    } finally {
      req.signal.removeEventListener("abort", onClientGone);
      if (this.polls.get(bot.id) === poll) this.polls.delete(bot.id);
    }
  }

  private table(): Record<string, Method> {
    const w = this.world;
    const methods: Record<string, Method> = {
      getme: ({ bot }) => getMeJson(bot),
      getupdates: (c) => this.getUpdates(c),
      sendmessage: ({ bot, p }) => {
        const user = this.user(p);
        const { text, entities } = formattedText(p, "Bad Request: message is too long");
        const markup = parseMarkup(p.reply_markup, false);
        this.throttle(bot, user.id);
        return messageJson(w.botSends(bot.id, user.id, text, markup, entities), user, bot);
      },
      editmessagetext: (c) => this.edit(c, formattedText(c.p, "Bad Request: MESSAGE_TOO_LONG")),
      editmessagereplymarkup: (c) => this.edit(c, {}),
      answercallbackquery: ({ bot, p }) => {
        const id = optStr(p, "callback_query_id");
        if (!id) throw new WorldError(400, "Bad Request: query_id is empty");
        w.answerCallback(bot.id, id, { text: optStr(p, "text"), show_alert: optBool(p, "show_alert"), url: optStr(p, "url") });
        return true;
      },
      deletemessage: ({ bot, p }) => {
        const user = this.user(p);
        w.botDeletes(bot.id, user.id, int(p, "message_id"));
        return true;
      },
      sendchataction: ({ p }) => (this.user(p), true),
      setmycommands: ({ bot, p }) => {
        const list = optJson(p, "commands", "can't parse commands JSON object");
        if (!Array.isArray(list)) throw new WorldError(400, "Bad Request: commands is empty");
        bot.commands = list.map(command);
        return true;
      },
      getmycommands: ({ bot }) => bot.commands,
      deletemycommands: ({ bot }) => ((bot.commands = []), true),
      deletewebhook: ({ bot, p }) => {
        if (optBool(p, "drop_pending_updates")) bot.updates = [];
        return true;
      },
      getwebhookinfo: ({ bot }) => ({ url: "", has_custom_certificate: false, pending_update_count: bot.updates.length }),
      close: () => true,
      logout: () => true,
    };
    return methods;
  }
}

/** `text` with `parse_mode` or `entities` applied, checked as Telegram checks a message's text. */
function formattedText(p: Params, tooLong: string): { text: string; entities: MessageEntity[] } {
  const raw = optStr(p, "text");
  if (!raw) throw new WorldError(400, "Bad Request: message text is empty");
  const entities = optJson(p, "entities", "can't parse entities JSON object");
  const formatted = formatText(raw, optStr(p, "parse_mode"), entities);
  if (!formatted.text.trim()) throw new WorldError(400, "Bad Request: message text is empty");
  if (formatted.text.length > MAX_TEXT) throw new WorldError(400, tooLong);
  return formatted;
}

function command(c: unknown): { command: string; description: string } {
  const o = (c ?? {}) as { command?: unknown; description?: unknown };
  if (typeof o.command !== "string" || !/^\/?[a-z0-9_]{1,32}$/.test(o.command)) throw new WorldError(400, "Bad Request: BOT_COMMAND_INVALID");
  if (typeof o.description !== "string" || !o.description || o.description.length > 256) {
    throw new WorldError(400, "Bad Request: command description is empty");
  }
  return { command: o.command.replace(/^\//, ""), description: o.description };
}

export function errorResponse(e: unknown): Response {
  if (e instanceof WorldError) {
    const body: Record<string, unknown> = { ok: false, error_code: e.code, description: e.description };
    if (e instanceof ApiError && e.parameters) body.parameters = e.parameters;
    return Response.json(body, { status: e.code });
  }
  console.error("sandbox bot api:", e);
  return Response.json({ ok: false, error_code: 500, description: `Internal Server Error: ${String(e)}` }, { status: 500 });
}
