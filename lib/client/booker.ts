// The hot path: each update from the bot becomes a flow event (lib/flow.ts), and the requests the
// flow asks for are handed to gramjs in the same event-loop turn (fastInvoke), never awaited:
// answers and acks come back later as events. Notes and timers come after the hand-over.

import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import { IGE } from "telegram/crypto/IGE";
import { FloodWaitError, RPCError } from "telegram/errors";
import { Raw } from "telegram/events";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt } from "telegram/Helpers";
import { UpdateConnectionState } from "telegram/network";
import { RequestState } from "telegram/network/RequestState";
import { initialState, isFinished, stats, step, type BookingResult, type FlowConfig, type FlowEvent, type FlowState, type FlowStats, type RequestAction } from "../flow.ts";
import { retry } from "../retry.ts";
import { formatCountdown, nowMs, preciseAt } from "../timing.ts";
import { resolveBot } from "./connect.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { fastInvoke } from "./gramjs/sender.ts";
import { ChatHistory } from "./history.ts";
import { BUTTON } from "../ui.ts";
import { updateToEvent, type CallbackTokens } from "./updates.ts";

export interface BookerOptions {
  botUsername: string;
  flow: Partial<FlowConfig> & Pick<FlowConfig, "targets">;
  pollingIntervalMs?: number;
  /** no reply within this long after a request: the flow's timeout (10 000) */
  stageTimeoutMs?: number;
  warmUp?: boolean;
  onNote?: (note: BookingNote) => void;
}

interface BookOptions {
  /** scheduled mode: the nowMs() instant to send /start at without waiting for the announcement */
  trigger?: number;
  /** give up when nothing has started the flow within this long (default: wait forever) */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** history checks start this long before the trigger (10 000; false: never) */
  pollWindowMs?: number | false;
  onWatching?: () => void;
}

type Cause = "message" | "trigger" | "timer" | "timeout" | "error";

export interface BookingNote {
  level: "info" | "warn" | "error";
  kind: RequestError["kind"] | "flow" | "history";
  message: string;
  /** ms since the booking began; none while preparing */
  atMs?: number;
}

export interface BookingOutcome {
  /** booked, or the bot says this user already holds a booking */
  ok: boolean;
  result?: BookingResult;
  failure?: string;
  /** on a failure: what the client was waiting for */
  stage?: string;
  cancelled?: boolean;
  origin?: "announcement" | "trigger" | "menu";
  stats: FlowStats;
  /** the client's own reactions: an event entering our handler → its request handed to gramjs (at) */
  reactions: { cause: Cause; messageId?: number; ms: number; at: number }[];
  notes: BookingNote[];
  /** history checks not included */
  requests: number;
  historyPolls: number;
  historyHits: number;
  triggerLateMs?: number;
}

/** A failed request, worded for the user; retryAfterMs: worth another try after that long. */
class RequestError extends Error {
  constructor(
    readonly kind: "flood" | "rpc" | "network" | "other",
    reason: string,
    readonly retryAfterMs?: number,
    /** BOT_RESPONSE_TIMEOUT: the bot did not answer the callback query; its message may still come */
    readonly ignorable = false,
  ) {
    super(reason);
  }
}

function classifyRequestError(e: unknown, method: string): RequestError {
  if (e instanceof FloodWaitError) {
    const s = Math.max(1, e.seconds);
    return new RequestError("flood", `FLOOD_WAIT: Telegram asks to wait ${s} s before the next request (${method})`, s * 1000);
  }
  if (e instanceof RPCError) {
    const msg = e.errorMessage;
    if (msg === "BOT_RESPONSE_TIMEOUT") return new RequestError("rpc", `the bot did not answer the button press in time (${method})`, undefined, true);
    const code = e.code ?? 0;
    // 5xx and -503 ("Timeout") are Telegram's own trouble: worth another try.
    const retryable = code >= 500 || code < 0 || msg === "TIMEOUT";
    return new RequestError("rpc", `Telegram refused ${method}: ${code} ${msg}`, retryable ? 500 : undefined);
  }
  const text = e instanceof Error ? e.message : String(e);
  if (/disconnect|connection|socket|timeout|ECONN|EPIPE|reconnect/i.test(text)) {
    return new RequestError("network", `connection problem during ${method}: ${text}`, 1000);
  }
  return new RequestError("other", `${method} failed: ${text}`, 500);
}

const inWords = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatCountdown(ms));

export async function prepareBooker(tg: TelegramClient, opts: BookerOptions, r: { deadline?: number; signal?: AbortSignal } = {}): Promise<Booker> {
  const maxRetries = opts.flow.maxRetries ?? 3;
  const withRetries = <T>(method: string, fn: () => Promise<T>) =>
    retry(
      () =>
        fn().catch((e: unknown) => {
          const f = classifyRequestError(e, method);
          // Only FLOOD_WAIT, Telegram's own trouble and the network: a wrong username stays wrong.
          throw f.kind === "other" || f.retryAfterMs === undefined ? e : f;
        }),
      {
        maxAttempts: maxRetries + 1,
        deadline: r.deadline,
        signal: r.signal,
        delayFor: (e) => (e instanceof RequestError ? e.retryAfterMs : undefined),
        onRetry: (e, attempt, ms) => {
          const { kind, message } = e as RequestError;
          opts.onNote?.({ level: "warn", kind, message: `${message}; retry ${attempt} of ${maxRetries} in ${inWords(ms)}` });
        },
      },
    );
  const me = await withRetries("users.GetUsers (who am I)", () => tg.getMe());
  const peer = await withRetries("contacts.ResolveUsername", () => resolveBot(tg, opts.botUsername));
  const booker = new Booker(tg, peer, peer.userId.toString(), me.id.toString(), opts);
  if (opts.warmUp !== false) {
    warmUp(booker.botId, peer, opts.flow);
    // Collect the warm-up's garbage now, so that no collection of it lands on the hot path.
    Bun.gc(true);
  }
  tg.addEventHandler(booker.handler, booker.raw);
  return booker;
}

export class Booker {
  private booking: Booking | undefined;
  readonly handler = (u: unknown): void => this.booking?.onUpdate(u);
  readonly raw = new Raw({});

  constructor(
    readonly tg: TelegramClient,
    readonly peer: Api.InputPeerUser,
    /** decimal strings, as compared with update peers */
    readonly botId: string,
    readonly selfId: string,
    readonly opts: BookerOptions,
  ) {}

  get busy(): boolean {
    return this.booking !== undefined;
  }

  /** Sends /start and waits for the server's ack: scheduled mode's warm-up, outside a booking. */
  async sendStart(): Promise<void> {
    await this.tg.invoke(new Api.messages.SendMessage({ peer: this.peer, message: "/start", randomId: generateRandomLong() }));
  }

  /** Removes the update handler; the TelegramClient stays connected (the caller owns it). */
  close(): void {
    this.tg.removeEventHandler(this.handler, this.raw);
    this.booking?.finish("the booker was closed", true);
  }

  async book(o: BookOptions = {}): Promise<BookingOutcome> {
    if (this.booking) throw new Error("Booker.book: a booking is already running");
    const history = new ChatHistory(this.tg, this.peer, this.botId);
    const baseline = await history.begin();
    // After the await: an abort meanwhile would never reach the listener added below.
    if (o.signal?.aborted) throw o.signal.reason;
    const { promise, resolve } = Promise.withResolvers<BookingOutcome>();
    this.booking = new Booking(this, history, o, (outcome) => {
      this.booking = undefined;
      resolve(outcome);
    });
    if (!baseline) this.booking.note("warn", "history", "could not read the chat history: the reconnect catch-up will only see edits");
    o.onWatching?.();
    return promise;
  }
}

const WAITING_FOR: Record<string, string> = {
  waitingAnnouncement: "while waiting for the announcement",
  startSent: "after /start, while waiting for the menu",
  selectPressed: "after pressing the transport, while waiting for the confirmation prompt",
  confirmPressed: "after the confirm press, while waiting for the result",
};

/** A lost connection that is not back within this many stage timeouts fails the booking. */
const RECONNECT_GRACE_STAGES = 3;

/** One booking's I/O around the flow's state; once it is over, its late callbacks do nothing. */
class Booking {
  private state: FlowState;
  private over = false;
  private offline = false;
  private readonly tokens: CallbackTokens = new Map();
  private readonly reactions: BookingOutcome["reactions"] = [];
  private readonly notes: BookingNote[] = [];
  /** aborted when the booking ends: cancels its timers and listeners */
  private readonly ended = new AbortController();
  private stageTimer?: ReturnType<typeof setTimeout>;
  private readonly stageTimeoutMs: number;
  private readonly startedAt = performance.now();
  private triggerLateMs?: number;

  constructor(
    private readonly booker: Booker,
    private readonly history: ChatHistory,
    o: BookOptions,
    private readonly done: (o: BookingOutcome) => void,
  ) {
    this.state = step(initialState(booker.opts.flow), { type: "start" }).state;
    this.stageTimeoutMs = booker.opts.stageTimeoutMs ?? 10_000;
    o.signal?.addEventListener("abort", () => this.finish("cancelled", true), { once: true, signal: this.ended.signal });
    if (o.timeoutMs !== undefined) {
      this.later(o.timeoutMs, () => this.state.phase === "waitingAnnouncement" && this.feed({ type: "timeout", at: performance.now() }, "timeout"));
    }
    const target = o.trigger;
    if (target === undefined) return;
    const trigger = preciseAt(target, () => {
      const at = performance.now();
      this.triggerLateMs = nowMs() - target;
      this.feed({ type: "trigger", at }, "trigger");
    });
    this.ended.signal.addEventListener("abort", () => trigger.cancel());
    if (o.pollWindowMs !== false) this.later(Math.max(0, target - (o.pollWindowMs ?? 10_000) - nowMs()), () => this.pollHistory(true));
  }

  onUpdate(u: unknown): void {
    const at = performance.now();
    if (u instanceof UpdateConnectionState) return this.onConnectionState(u.state === UpdateConnectionState.connected);
    const ev = updateToEvent(u, this.booker.botId, this.tokens, at);
    if (ev === undefined) return;
    this.history.remember(ev);
    this.feed(ev, "message");
  }

  /** Steps the flow and hands its requests over; `ev.at` is when the event entered our code. */
  private feed(ev: FlowEvent, cause: Cause): void {
    if (this.over) return;
    const r = step(this.state, ev);
    this.state = r.state;
    for (const a of r.actions) {
      if (a.type === "sendText" || a.type === "press") this.exec(a, cause, ev.at ?? performance.now(), ev.type === "message" ? ev.id : undefined);
      else if (a.type === "log") this.note(a.level, "flow", a.message);
    }
    if (isFinished(this.state)) this.finish();
  }

  private exec(a: RequestAction, cause: Cause, t0: number, messageId?: number): void {
    const { tg, peer } = this.booker;
    if (a.delayMs) {
      const { delayMs, ...now } = a;
      clearTimeout(this.stageTimer); // the wait is deliberate, not a silent bot
      this.later(delayMs, () => this.exec(now as RequestAction, "timer", performance.now()));
      return;
    }
    const request = this.state.requests;
    let p: Promise<unknown>;
    if (a.type === "sendText" || a.button.reply) {
      const message = a.type === "sendText" ? a.text : a.button.text;
      p = fastInvoke(tg, new Api.messages.SendMessage({ peer, message, randomId: generateRandomLong() }));
    } else {
      const data = a.button.data === undefined ? undefined : this.tokens.get(a.button.data);
      if (data === undefined) {
        const reason = `button "${a.button.text}" has no callback data`;
        queueMicrotask(() => this.feed({ type: "error", reason, retryable: false, at: performance.now() }, "error"));
        return;
      }
      p = fastInvoke(tg, new Api.messages.GetBotCallbackAnswer({ peer, msgId: a.messageId, data }));
    }
    const t1 = performance.now();
    this.reactions.push({ cause, messageId, ms: t1 - t0, at: t1 });
    // Everything below runs after the request is handed over.
    p.then(
      (res) => {
        const at = performance.now();
        if (a.type === "sendText") this.feed({ type: "startDelivered", at }, "message");
        // The bot's alert or toast: news for the flow (sold out moves on at once), never awaited.
        else if (res instanceof Api.messages.BotCallbackAnswer && res.message) this.feed({ type: "answer", text: res.message, request, at }, "message");
      },
      (e: unknown) => this.onRequestError(e, a.type === "sendText" ? "messages.SendMessage" : "messages.GetBotCallbackAnswer", request),
    );
    this.armStageTimer();
  }

  private onRequestError(e: unknown, method: string, request: number): void {
    if (this.over) return;
    const f = classifyRequestError(e, method);
    if (f.ignorable) return this.note("info", f.kind, `${f.message}; waiting for the bot's message`);
    const retryable = f.retryAfterMs !== undefined;
    // The flow words the consequence itself ("...: retry 1/3", or the failure).
    if (!retryable && request === this.state.requests) this.note("error", f.kind, f.message);
    this.feed({ type: "error", reason: f.message, retryable, request, retryAfterMs: f.retryAfterMs, at: performance.now() }, "error");
  }

  private armStageTimer(): void {
    clearTimeout(this.stageTimer);
    this.stageTimer = setTimeout(() => {
      this.note("warn", "flow", `no reply from the bot within ${this.stageTimeoutMs} ms`);
      this.feed({ type: "timeout", at: performance.now() }, "timeout");
    }, this.stageTimeoutMs);
  }

  private onConnectionState(up: boolean): void {
    if (this.over || up !== this.offline) return;
    this.offline = !up;
    if (up) {
      this.note("warn", "flow", "reconnected to Telegram; checking the chat for messages missed meanwhile");
      return void this.pollHistory(false);
    }
    this.note("warn", "flow", "connection to Telegram lost; gramjs is reconnecting");
    const graceMs = RECONNECT_GRACE_STAGES * this.stageTimeoutMs;
    // Also keeps the process alive: once gramjs stops retrying, nothing else would.
    this.later(graceMs, () => {
      if (!this.offline) return;
      const reason = `lost the connection to Telegram and could not reconnect within ${graceMs / 1000} s`;
      this.feed({ type: "error", reason, retryable: false, at: performance.now() }, "error");
    });
  }

  /** One history check, fed to the flow; `repeat`: keep checking every polling interval. */
  private async pollHistory(repeat: boolean): Promise<void> {
    const intervalMs = this.booker.opts.pollingIntervalMs ?? 30;
    let waitMs = intervalMs;
    try {
      const found = await this.history.check(this.tokens);
      if (this.over) return;
      for (const ev of found) {
        this.note("info", "history", `the history check found message ${ev.id} that no update delivered`);
        this.feed({ ...ev, at: performance.now() }, "message");
      }
    } catch (e) {
      if (this.over) return;
      const f = classifyRequestError(e, "messages.GetHistory");
      waitMs = f.retryAfterMs ?? intervalMs * 10;
      this.note("warn", "history", `history check: ${f.message}; next check in ${waitMs} ms`);
    }
    if (repeat) this.later(waitMs, () => this.pollHistory(true));
  }

  private later(ms: number, fn: () => void): void {
    sleep(ms, undefined, { signal: this.ended.signal }).then(fn, () => {});
  }

  note(level: BookingNote["level"], kind: BookingNote["kind"], message: string): void {
    const n: BookingNote = { level, kind, message, atMs: Number((performance.now() - this.startedAt).toFixed(2)) };
    this.notes.push(n);
    const onNote = this.booker.opts.onNote;
    if (onNote) setImmediate(() => onNote(n));
  }

  finish(reason?: string, cancelled = false): void {
    if (this.over) return;
    this.over = true;
    this.ended.abort();
    clearTimeout(this.stageTimer);
    const s = this.state;
    const t = s.times;
    const origin = t.originAt === undefined ? undefined : t.triggerAt === t.originAt ? "trigger" : t.announcementAt === t.originAt ? "announcement" : "menu";
    const failure = s.failure ?? reason;
    this.done({
      ok: s.result !== undefined,
      result: s.result,
      failure,
      stage: failure && WAITING_FOR[s.failedIn ?? s.phase],
      cancelled,
      origin,
      stats: stats(s),
      reactions: this.reactions,
      notes: this.notes,
      requests: s.requests,
      historyPolls: this.history.polls,
      historyHits: this.history.hits,
      triggerLateMs: this.triggerLateMs,
    });
  }
}

function botMessage(botId: string, id: number, text: string, labels: string[]): Buffer {
  const buttons = labels.map((t, i) => new Api.KeyboardButtonCallback({ text: t, data: Buffer.from(`warm:${i}`) }));
  const rows = buttons.map((b) => new Api.KeyboardButtonRow({ buttons: [b] }));
  const replyMarkup = rows.length ? new Api.ReplyInlineMarkup({ rows }) : undefined;
  const message = new Api.Message({ id, peerId: new Api.PeerUser({ userId: returnBigInt(botId) }), date: 0, message: text, replyMarkup });
  const update = new Api.UpdateNewMessage({ message, pts: id, ptsCount: 1 });
  return new Api.Updates({ updates: [update], users: [], chats: [], date: 0, seq: 0 }).getBytes();
}

/**
 * Runs the hot path on made-up bookings during prepare, so that the day's first reaction runs compiled code
 * (cold, it measured about 1 ms, and the first booking several ms slower). Returns how many booked: all, or the script is stale.
 */
export function warmUp(botId: string, peer: Api.InputPeerUser, flow: BookerOptions["flow"], rounds = 300): number {
  const key = randomBytes(32);
  const iv = randomBytes(32);
  // Requests are built, serialised and encrypted as gramjs would, and go nowhere.
  const offline = {
    invoke(request: Api.AnyRequest) {
      new IGE(key, iv).encryptIge(new RequestState(request).data);
      return new Promise(() => {});
    },
  } as unknown as TelegramClient;
  const booker = new Booker(offline, peer, botId, "0", { botUsername: "", flow });
  const { texts, targets } = initialState(flow).config;
  const city = targets[0]?.cities[0] ?? "warm";
  const wire = [
    botMessage(botId, 1, `📢 ${texts.announcement[0]}`, []),
    botMessage(botId, 2, "menu", [`${city} → ${city} 00:00 (1)`, BUTTON.myBookings]),
    botMessage(botId, 3, "prompt", [texts.confirmButton[0]!, BUTTON.cancel]),
    botMessage(botId, 4, `${texts.booked[0]}: ${city}`, []),
  ];
  let booked = 0;
  for (let i = 0; i < rounds; i++) {
    const booking = new Booking(booker, new ChatHistory(offline, peer, botId), {}, (o) => {
      if (o.ok) booked++;
    });
    for (const bytes of wire) {
      // The receive path before our handler: decrypt (AES-IGE is JavaScript in gramjs) and parse.
      new IGE(key, iv).decryptIge(bytes.subarray(0, bytes.length - (bytes.length % 16)));
      booking.onUpdate((new BinaryReader(bytes).tgReadObject() as Api.Updates).updates[0]);
    }
    booking.finish("the warm-up script did not book");
  }
  return booked;
}
