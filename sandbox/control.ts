// `/sandbox/...` endpoints on the Bot API server: how the command line, the demo and the client
// act in the sandbox as people (create an account, write to a bot, press a button, log in).
// Replies are `{ ok: true, result }` or `{ ok: false, error }` with an HTTP error status.

import { SANDBOX_BOT_USERNAME, SANDBOX_LOGIN_CODE } from "./defaults.ts";
import { Human, inlineButtons } from "./human.ts";
import type { MtprotoServer } from "./mtproto.ts";
import { optBool, optStr, readParams, type Params } from "./params.ts";
import { WorldError, type Bot, type Message, type User, type World } from "./world.ts";

export interface ControlInfo {
  botApiUrl(): string;
  /** The MTProto front, once started (sessions need it). */
  mtproto(): MtprotoServer | undefined;
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Route = (p: Params) => unknown;

export class Control {
  private readonly routes: Record<string, Route>;

  constructor(
    readonly world: World,
    private readonly info: ControlInfo,
  ) {
    this.routes = {
      "GET /sandbox/health": () => this.health(),
      "GET /sandbox/bots": () => [...world.bots.values()].map((b) => ({ id: b.id, username: b.username })),
      "POST /sandbox/users": (p) => userView(this.createUser(p)),
      "POST /sandbox/send": (p) => {
        const text = optStr(p, "text");
        if (!text) throw new ControlError(400, "text is required");
        return this.as(p, (h) => messageView(h.send(text)));
      },
      "POST /sandbox/press": (p) => this.press(p),
      "GET /sandbox/history": (p) => this.as(p, (h) => h.history().map(messageView)),
      "POST /sandbox/block": (p) => {
        const blocked = optBool(p, "blocked") ?? true;
        return this.as(p, (h) => {
          world.setBlocked(h.userId, h.botId, blocked);
          return { user_id: h.userId, bot_id: h.botId, blocked };
        });
      },
      "GET /sandbox/session": (p) => this.session(p),
      "POST /sandbox/session": (p) => this.session(p),
      "GET /sandbox/rsa": () =>
        new Response(this.mtproto().rsaPublicKey().pem, { headers: { "content-type": "application/x-pem-file" } }),
      "GET /sandbox/auth-key": (p) => {
        const id = optStr(p, "key_id");
        if (!id || !/^-?\d+$/.test(id)) throw new ControlError(400, "key_id is required (the auth_key_id as a decimal number)");
        const userId = this.mtproto().authKeyUser(BigInt.asUintN(64, BigInt(id)));
        const user = userId ? world.users.get(userId) : undefined;
        return { known: userId !== undefined, user_id: user?.id, phone: user?.phone };
      },
    };
  }

  async handle(req: Request, path: string, search: string): Promise<Response> {
    try {
      const route = this.routes[`${req.method} ${path.replace(/\/+$/, "")}`];
      if (!route) throw new ControlError(404, `no such endpoint: ${req.method} ${path} (see sandbox/README.md)`);
      const p = await readParams(req, search);
      const result = await route(p);
      return result instanceof Response ? result : Response.json({ ok: true, result });
    } catch (e) {
      const status = e instanceof ControlError ? e.status : e instanceof WorldError ? e.code : 400;
      const error = e instanceof WorldError ? e.description : e instanceof Error ? e.message : String(e);
      return Response.json({ ok: false, error }, { status });
    }
  }

  private health() {
    const m = this.info.mtproto();
    return {
      bot_api_url: this.info.botApiUrl(),
      mtproto: m ? { host: m.host, port: m.port } : null,
      login_code: SANDBOX_LOGIN_CODE,
      users: this.world.users.size,
      bots: this.world.bots.size,
    };
  }

  private createUser(p: Params): User {
    const phone = optStr(p, "phone");
    if (phone && this.world.userByPhone(phone)) throw new ControlError(409, `phone ${phone} is taken`);
    return this.world.createUser({
      first_name: optStr(p, "first_name") ?? optStr(p, "name"),
      last_name: optStr(p, "last_name"),
      username: optStr(p, "username")?.replace(/^@/, ""),
      phone,
    });
  }

  /** `user_id` is an id, "@username" or "+phone"; `bot` a username or id (default: the sandbox bot). */
  private async as<T>(p: Params, fn: (h: Human) => T | Promise<T>): Promise<T> {
    const human = this.human(p);
    try {
      return await fn(human);
    } finally {
      human.close(); // a Human listens to the world until closed
    }
  }

  private human(p: Params): Human {
    const ref = optStr(p, "user_id") ?? optStr(p, "user");
    if (!ref) throw new ControlError(400, "user_id is required (an id, @username or +phone)");
    const user = this.findUser(ref);
    if (!user) throw new ControlError(404, `no user ${ref} in the sandbox (create one: POST /sandbox/users)`);
    return new Human(this.world, user.id, this.findBot(optStr(p, "bot") ?? SANDBOX_BOT_USERNAME).id);
  }

  private findUser(ref: string): User | undefined {
    if (ref.startsWith("+")) return this.world.userByPhone(ref);
    if (/^\d+$/.test(ref)) return this.world.users.get(Number(ref));
    const r = this.world.resolveUsername(ref);
    return r?.kind === "user" ? r.user : undefined;
  }

  private findBot(ref: string): Bot {
    const bot = /^\d+$/.test(ref) ? this.world.bots.get(Number(ref)) : this.world.botByUsername(ref);
    if (!bot) throw new ControlError(404, `no bot ${ref} in the sandbox (a bot appears when its token first calls the Bot API)`);
    return bot;
  }

  /** Press the newest button whose label contains `label`; resolves with the bot's answer. */
  private press(p: Params) {
    const label = optStr(p, "label");
    if (!label) throw new ControlError(400, "label is required");
    const messageId = optStr(p, "message_id");
    return this.as(p, async (h) => {
      try {
        return { answer: await h.press(label, messageId ? Number(messageId) : undefined) };
      } catch (e) {
        if (e instanceof WorldError) throw e;
        throw new ControlError(404, e instanceof Error ? e.message : String(e));
      }
    });
  }

  private mtproto(): MtprotoServer {
    const m = this.info.mtproto();
    if (!m) throw new ControlError(503, "the MTProto front is not running");
    return m;
  }

  private session(p: Params) {
    const phone = optStr(p, "phone");
    if (!phone) throw new ControlError(400, "phone is required, e.g. ?phone=+79990000001");
    const mtproto = this.info.mtproto();
    if (!mtproto) throw new ControlError(503, "the MTProto front is not running");
    const user = this.world.userForPhone(phone, optStr(p, "first_name") ?? optStr(p, "name"));
    return { user_id: user.id, session: mtproto.sessionFor(user.id) };
  }
}

function userView(u: User) {
  return { id: u.id, first_name: u.first_name, last_name: u.last_name, username: u.username, phone: u.phone };
}

function messageView(m: Message) {
  const buttons = inlineButtons(m);
  return {
    id: m.id,
    from_bot: m.outgoingFromBot,
    text: m.text,
    date: m.date,
    edit_date: m.editDate,
    buttons: buttons.length ? buttons.map((b) => ({ text: b.text, callback_data: b.callback_data, url: b.url })) : undefined,
    keyboard: m.replyMarkup && "keyboard" in m.replyMarkup ? m.replyMarkup.keyboard.flat().map((b) => b.text) : undefined,
  };
}
