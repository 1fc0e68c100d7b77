// The sandbox's web page: `GET /` serves a Telegram-like chat (or the picker, or the watch view),
// `/web/...` its script, styles and endpoints. Chats and the watch view are live over SSE.
// Everything a bot writes travels as JSON data and is put on the page as text, never as HTML.

import { join } from "node:path";
import { SANDBOX_BOT_USERNAME, SANDBOX_WATCH_TEXTS } from "../defaults.ts";
import { optBool, optInt, optStr, readParams, type Params } from "../params.ts";
import { WorldError, type Bot, type User, type World } from "../world.ts";
import type { CallbackAnswerView, ChatInit, Directory, TraceRecord, WatchInit, WatchTexts } from "./protocol.ts";
import { Recorder } from "./recorder.ts";
import { eventStream, type EventStream } from "./sse.ts";
import { botView, messageView, userView } from "./views.ts";

const HTML = { "content-type": "text/html; charset=utf-8" };

type Route = (req: Request, p: Params) => unknown;

export class WebPage {
  private readonly recorder: Recorder;
  private readonly streams = new Set<EventStream>();
  private readonly routes: Record<string, Route>;
  private bundle: Promise<string> | undefined;

  constructor(
    private readonly world: World,
    private readonly texts: WatchTexts = SANDBOX_WATCH_TEXTS,
  ) {
    this.recorder = new Recorder(world);
    this.routes = {
      "GET /": () => new Response(Bun.file(join(import.meta.dir, "index.html")), { headers: HTML }),
      "GET /web/app.js": () => this.script(),
      "GET /web/style.css": () => new Response(Bun.file(join(import.meta.dir, "style.css"))),
      "GET /web/directory": () => this.directory(),
      "GET /web/chat": (req, p) => this.chatStream(req, p),
      "GET /web/watch": (req, p) => this.watchStream(req, p),
      "POST /web/send": (_, p) => {
        const text = optStr(p, "text")?.trim();
        if (!text) throw new WorldError(400, "text is required");
        return messageView(this.world.userSends(this.user(p).id, this.bot(p).id, text));
      },
      "POST /web/press": (_, p) => this.press(p),
      "POST /web/block": (_, p) => {
        const blocked = optBool(p, "blocked") ?? true;
        this.world.setBlocked(this.user(p).id, this.bot(p).id, blocked);
        return { blocked };
      },
    };
  }

  /** Whether `path` is the page's: the root or under /web/. */
  static owns(path: string): boolean {
    return path === "/" || path.startsWith("/web/");
  }

  async handle(req: Request, path: string, search: string): Promise<Response> {
    try {
      const route = this.routes[`${req.method} ${path}`];
      if (!route) throw new WorldError(404, `no such page: ${req.method} ${path}`);
      const result = await route(req, await readParams(req, search));
      return result instanceof Response ? result : Response.json(result);
    } catch (e) {
      const status = e instanceof WorldError ? e.code : 500;
      return Response.json({ error: e instanceof WorldError ? e.description : String(e) }, { status });
    }
  }

  /** Ends every open stream and stops recording. */
  close(): void {
    for (const s of this.streams) s.close();
    this.streams.clear();
    this.recorder.stop();
  }

  private async script(): Promise<Response> {
    this.bundle ??= Bun.build({ entrypoints: [join(import.meta.dir, "app.ts")], target: "browser" }).then((r) => {
      if (!r.success) throw new Error(`the web page's script does not build: ${r.logs.join("\n")}`);
      return r.outputs[0]!.text();
    });
    try {
      return new Response(await this.bundle, { headers: { "content-type": "text/javascript; charset=utf-8" } });
    } catch (e) {
      this.bundle = undefined;
      throw e;
    }
  }

  private directory(): Directory {
    return {
      users: [...this.world.users.values()].map(userView),
      bots: [...this.world.bots.values()].map((b) => ({ id: b.id, username: b.username })),
    };
  }

  /** `user` is an id, @username or +phone; a new @username or phone becomes a user on first use. */
  private user(p: Params): User {
    const ref = (optStr(p, "user") ?? "").trim();
    if (!ref) throw new WorldError(400, "user is required: an id, @username or +phone");
    if (/^\d+$/.test(ref)) {
      const user = this.world.users.get(Number(ref));
      if (!user) throw new WorldError(404, `no user ${ref} in the sandbox; open /?user=+<phone> or /?user=@<name> to create one`);
      return user;
    }
    if (/^\+[\d\s()-]+$/.test(ref)) return this.world.userForPhone(ref);
    const username = ref.replace(/^@/, "");
    if (!/^[A-Za-z][A-Za-z0-9_]{2,31}$/.test(username)) throw new WorldError(400, `"${ref}" is not an id, @username or +phone`);
    const found = this.world.resolveUsername(username);
    if (found?.kind === "bot") throw new WorldError(400, `@${username} is a bot, not a user`);
    return found?.user ?? this.world.createUser({ username, first_name: username });
  }

  private bot(p: Params): Bot {
    const ref = (optStr(p, "bot") ?? SANDBOX_BOT_USERNAME).replace(/^@/, "");
    const bot = /^\d+$/.test(ref) ? this.world.bots.get(Number(ref)) : this.world.botByUsername(ref);
    if (!bot) throw new WorldError(404, `no bot ${ref} in the sandbox (a bot appears when its token first calls the Bot API)`);
    return bot;
  }

  private async press(p: Params): Promise<CallbackAnswerView> {
    const messageId = optInt(p, "message_id");
    const data = optStr(p, "data");
    if (messageId === undefined || data === undefined) throw new WorldError(400, "message_id and data are required");
    const a = await this.world.pressButton(this.user(p).id, this.bot(p).id, messageId, data);
    return { text: a.text, alert: a.show_alert, url: a.url, timeout: a.timeout };
  }

  private track(s: EventStream): Response {
    this.streams.add(s);
    s.ended.then(() => this.streams.delete(s));
    return s.response;
  }

  /** One chat, live: `init`, then `message` (new or edited, by id) and `delete`. */
  private chatStream(req: Request, p: Params): Response {
    const user = this.user(p);
    const bot = this.bot(p);
    this.recorder.start();
    const stream = eventStream(req, (send) => {
      const init: ChatInit = {
        user: userView(user),
        bot: botView(bot),
        blocked: user.blocked.has(bot.id),
        messages: this.world.history(user.id, bot.id).map(messageView),
      };
      send("init", init);
      const unsubscribe = this.recorder.subscribe((r) => {
        if (r.kind !== "press" && r.kind !== "push" && r.botId === bot.id && r.message.userId === user.id) send("message", r.message);
      });
      const unlisten = this.world.listen(user.id, (e) => {
        if (e.type !== "deleteMessages") return;
        const gone = e.ids.filter((id) => !this.world.getMessage(user.id, bot.id, id));
        if (gone.length) send("delete", gone);
      });
      return () => {
        unsubscribe();
        unlisten();
      };
    });
    return this.track(stream);
  }

  /** Every chat of a bot and the trace records: `init`, then `user` (a new chat) and `record`. */
  private watchStream(req: Request, p: Params): Response {
    const bot = this.bot(p);
    this.recorder.start();
    const stream = eventStream(req, (send) => {
      const known = new Set(this.world.chatUsersOf(bot.id));
      const ofThisBot = (r: TraceRecord) => r.kind === "push" || r.botId === bot.id;
      const init: WatchInit = {
        bot: botView(bot),
        texts: this.texts,
        chats: [...known].map((id) => ({
          user: userView(this.world.mustUser(id)),
          messages: this.world.history(id, bot.id).map(messageView),
        })),
        records: this.recorder.recent().filter(ofThisBot),
        timeOrigin: performance.timeOrigin,
        recordingSince: this.recorder.since,
      };
      send("init", init);
      return this.recorder.subscribe((r) => {
        if (!ofThisBot(r)) return;
        const userId = r.kind === "press" || r.kind === "push" ? r.userId : r.message.userId;
        if (r.kind !== "push" && !known.has(userId)) {
          known.add(userId);
          send("user", userView(this.world.mustUser(userId)));
        }
        send("record", r);
      });
    });
    return this.track(stream);
  }
}
