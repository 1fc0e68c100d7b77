// The hot path: one Raw update handler turns each update from the bot into a flow event, steps the
// pure flow (lib/flow.ts) and hands the resulting requests to gramjs in the same event-loop turn
// (fastInvoke), never awaiting them: callback answers and acks come back later as flow events.
// Notes, logs and timers come after the request is handed over. Events are stamped with
// performance.now(); the scheduled trigger is a nowMs instant, already on the server's clock.

import "./gramjs/prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { FloodWaitError, RPCError } from "telegram/errors";
import { Raw } from "telegram/events";
import { UpdateConnectionState } from "telegram/network";
import { initialState, isFinished, stats, step, type BookingResult, type FlowConfig, type FlowEvent, type FlowState, type FlowStats, type RequestAction } from "../flow.ts";
import type { Logger } from "../log.ts";
import { retry } from "../retry.ts";
import { formatCountdown, nowMs, preciseAt, type Cancellable } from "../timing.ts";
import { resolveBot } from "./connect.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { fastInvoke } from "./gramjs/sender.ts";
import { ChatHistory } from "./history.ts";
import { updateToEvent, type CallbackTokens } from "./updates.ts";
import { warmUp } from "./warm-up.ts";

export interface BookerOptions {
  botUsername: string;
  flow: Partial<FlowConfig> & Pick<FlowConfig, "targets">;
  /** the history check's interval in scheduled mode's final window (30) */
  pollingIntervalMs?: number;
  /** no reply within this long after a request: the flow's timeout (10 000) */
  stageTimeoutMs?: number;
  /** run the hot path on made-up data first (true) */
  warmUp?: boolean;
  /** notes (FLOOD_WAIT, reconnects, retries), off the hot path */
  log?: Logger;
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

/** The client's own reaction: an event entering our handler → its request handed to gramjs (at). */
export interface Reaction {
  cause: "message" | "trigger" | "timer" | "timeout" | "error";
  messageId?: number;
  ms: number;
  at: number;
}

export interface BookingNote {
  level: "info" | "warn" | "error";
  kind: RequestFailure["kind"] | "flow" | "history";
  message: string;
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
  reactions: Reaction[];
  notes: BookingNote[];
  /** history checks not included */
  requests: number;
  historyPolls: number;
  /** messages the history check found that no update had delivered */
  historyHits: number;
  triggerLateMs?: number;
}

interface RequestFailure {
  reason: string;
  retryable: boolean;
  retryAfterMs?: number;
  /**
   * BOT_RESPONSE_TIMEOUT on a press only means the bot did not answer the callback query; its
   * message is what the flow waits for, and the stage timeout covers a press really lost.
   */
  ignorable?: boolean;
  kind: "flood" | "rpc" | "network" | "other";
}

function classifyRequestError(e: unknown, method: string): RequestFailure {
  if (e instanceof FloodWaitError) {
    const s = Math.max(1, e.seconds);
    return { kind: "flood", reason: `FLOOD_WAIT: Telegram asks to wait ${s} s before the next request (${method})`, retryable: true, retryAfterMs: s * 1000 };
  }
  if (e instanceof RPCError) {
    const msg = e.errorMessage;
    if (msg === "BOT_RESPONSE_TIMEOUT") return { kind: "rpc", reason: `the bot did not answer the button press in time (${method})`, retryable: true, ignorable: true };
    const code = e.code ?? 0;
    // 5xx and -503 ("Timeout") are Telegram's own trouble: worth another try.
    const retryable = code >= 500 || code < 0 || msg === "TIMEOUT";
    return { kind: "rpc", reason: `Telegram refused ${method}: ${code} ${msg}`, retryable, ...(retryable ? { retryAfterMs: 500 } : {}) };
  }
  const text = e instanceof Error ? e.message : String(e);
  if (/disconnect|connection|socket|timeout|ECONN|EPIPE|reconnect/i.test(text)) {
    return { kind: "network", reason: `connection problem during ${method}: ${text}`, retryable: true, retryAfterMs: 1000 };
  }
  return { kind: "other", reason: `${method} failed: ${text}`, retryable: true, retryAfterMs: 500 };
}

class RequestError extends Error {
  constructor(readonly failure: RequestFailure) {
    super(failure.reason);
  }
}

const inWords = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatCountdown(ms));

/**
 * Resolves us and the bot (each lookup retried on FLOOD_WAIT or network trouble within
 * flow.maxRetries, never waiting past `deadline`; a wrong username is not retried), warms the hot
 * path up and starts listening.
 */
export async function prepareBooker(tg: TelegramClient, opts: BookerOptions, r: { deadline?: number; signal?: AbortSignal } = {}): Promise<Booker> {
  const maxRetries = opts.flow.maxRetries ?? 3;
  const withRetries = <T>(method: string, fn: () => Promise<T>) =>
    retry(
      () =>
        fn().catch((e: unknown) => {
          const f = classifyRequestError(e, method);
          throw f.kind === "other" || !f.retryable ? e : new RequestError(f);
        }),
      {
        maxAttempts: maxRetries + 1,
        deadline: r.deadline,
        signal: r.signal,
        delayFor: (e) => (e instanceof RequestError ? (e.failure.retryAfterMs ?? 500) : undefined),
        onRetry: (e, attempt, ms) => {
          const { failure } = e as RequestError;
          const message = `${failure.reason}; retry ${attempt} of ${maxRetries} in ${inWords(ms)}`;
          opts.log?.warn("prepare_retry", { kind: failure.kind }, message);
          opts.onNote?.({ level: "warn", kind: failure.kind, message });
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

/** One booking's I/O bookkeeping; what the booking knows lives in `state` (the flow's). */
interface Run {
  state: FlowState;
  tokens: CallbackTokens;
  history: ChatHistory;
  reactions: Reaction[];
  notes: BookingNote[];
  timers: Set<ReturnType<typeof setTimeout>>;
  stageTimer?: ReturnType<typeof setTimeout>;
  trigger?: Cancellable;
  triggerLateMs?: number;
  startedAt: number;
  done: (o: BookingOutcome) => void;
  offAbort?: () => void;
}

const WAITING_FOR: Record<string, string> = {
  waitingAnnouncement: "while waiting for the announcement",
  startSent: "after /start, while waiting for the menu",
  selectPressed: "after pressing the transport, while waiting for the confirmation prompt",
  confirmPressed: "after the confirm press, while waiting for the result",
};

/** A lost connection that is not back within this many stage timeouts fails the booking. */
const RECONNECT_GRACE_STAGES = 3;

export class Booker {
  private run: Run | undefined;
  readonly handler = (u: unknown): void => this.onUpdate(u);
  readonly raw = new Raw({});
  private readonly stageTimeoutMs: number;

  constructor(
    readonly tg: TelegramClient,
    readonly peer: Api.InputPeerUser,
    /** decimal strings, as compared with update peers */
    readonly botId: string,
    readonly selfId: string,
    private readonly opts: BookerOptions,
  ) {
    this.stageTimeoutMs = opts.stageTimeoutMs ?? 10_000;
  }

  get busy(): boolean {
    return this.run !== undefined;
  }

  /** Sends /start and waits for the server's ack: scheduled mode's warm-up, outside a booking. */
  async sendStart(): Promise<void> {
    await this.tg.invoke(new Api.messages.SendMessage({ peer: this.peer, message: "/start", randomId: generateRandomLong() }));
  }

  /** Removes the update handler; the TelegramClient stays connected (the caller owns it). */
  close(): void {
    this.tg.removeEventHandler(this.handler, this.raw);
    if (this.run) this.finish(this.run, "the booker was closed", true);
  }

  /** Watches for the announcement (and, with `trigger`, fires at that instant) and books once. */
  async book(o: BookOptions = {}): Promise<BookingOutcome> {
    if (this.run) throw new Error("Booker.book: a booking is already running");
    if (o.signal?.aborted) throw o.signal.reason;
    const history = new ChatHistory(this.tg, this.peer, this.botId);
    const baseline = await history.begin();
    const { promise, resolve } = Promise.withResolvers<BookingOutcome>();
    const run: Run = {
      state: step(initialState(this.opts.flow), { type: "start", at: performance.now() }).state,
      tokens: new Map(),
      history,
      reactions: [],
      notes: [],
      timers: new Set(),
      startedAt: performance.now(),
      done: resolve,
    };
    this.run = run;
    if (!baseline) this.note(run, "warn", "history", "could not read the chat history: the reconnect catch-up will only see edits");
    const signal = o.signal;
    if (signal) {
      const onAbort = () => this.finish(run, "cancelled", true);
      signal.addEventListener("abort", onAbort, { once: true });
      run.offAbort = () => signal.removeEventListener("abort", onAbort);
    }
    if (o.timeoutMs !== undefined) {
      this.later(run, o.timeoutMs, () => run.state.phase === "waitingAnnouncement" && this.feed(run, { type: "timeout", at: performance.now() }, "timeout"));
    }
    if (o.trigger !== undefined) {
      const target = o.trigger;
      run.trigger = preciseAt(target, () => {
        const t0 = performance.now();
        run.triggerLateMs = nowMs() - target;
        this.feed(run, { type: "trigger", at: t0 }, "trigger");
      });
      if (o.pollWindowMs !== false) this.later(run, Math.max(0, target - (o.pollWindowMs ?? 10_000) - nowMs()), () => this.pollHistory(run, true));
    }
    o.onWatching?.();
    return promise;
  }

  private onUpdate(u: unknown): void {
    const t0 = performance.now();
    const run = this.run;
    if (run === undefined) return;
    if (u instanceof UpdateConnectionState) return this.onConnectionState(run, u.state === UpdateConnectionState.connected);
    const ev = updateToEvent(u, this.botId, run.tokens, t0);
    if (ev === undefined) return;
    run.history.remember(ev);
    this.feed(run, ev, "message");
  }

  /** Steps the flow and hands its requests over; `ev.at` is when the event entered our code. */
  private feed(run: Run, ev: FlowEvent, cause: Reaction["cause"]): void {
    if (this.run !== run) return;
    const r = step(run.state, ev);
    run.state = r.state;
    for (const a of r.actions) {
      if (a.type === "sendText" || a.type === "press") this.exec(run, a, cause, ev.at ?? performance.now(), ev.type === "message" ? ev.id : undefined);
      else if (a.type === "log") this.note(run, a.level, "flow", a.message);
    }
    if (isFinished(run.state)) this.finish(run);
  }

  private exec(run: Run, a: RequestAction, cause: Reaction["cause"], t0: number, messageId?: number): void {
    if (a.delayMs) {
      const { delayMs, ...now } = a;
      if (run.stageTimer) clearTimeout(run.stageTimer); // the wait is deliberate, not a silent bot
      this.later(run, delayMs, () => this.exec(run, now as RequestAction, "timer", performance.now()));
      return;
    }
    const request = run.state.requests;
    let p: Promise<unknown>;
    if (a.type === "sendText" || a.button.reply) {
      const message = a.type === "sendText" ? a.text : a.button.text;
      p = fastInvoke(this.tg, new Api.messages.SendMessage({ peer: this.peer, message, randomId: generateRandomLong() }));
    } else {
      const data = a.button.data === undefined ? undefined : run.tokens.get(a.button.data);
      if (data === undefined) {
        const reason = `button "${a.button.text}" has no callback data`;
        queueMicrotask(() => this.feed(run, { type: "error", reason, retryable: false, at: performance.now() }, "error"));
        return;
      }
      p = fastInvoke(this.tg, new Api.messages.GetBotCallbackAnswer({ peer: this.peer, msgId: a.messageId, data }));
    }
    const t1 = performance.now();
    run.reactions.push({ cause, ...(messageId !== undefined ? { messageId } : {}), ms: t1 - t0, at: t1 });
    // Everything below runs after the request is handed over.
    const method = a.type === "sendText" ? "messages.SendMessage" : "messages.GetBotCallbackAnswer";
    p.then(
      (res) => {
        const at = performance.now();
        if (a.type === "sendText") this.feed(run, { type: "startDelivered", at }, "message");
        // The bot's alert or toast: news for the flow (sold out moves on at once), never awaited.
        else if (res instanceof Api.messages.BotCallbackAnswer && res.message) this.feed(run, { type: "answer", text: res.message, request, at }, "message");
      },
      (e: unknown) => this.onRequestError(run, e, method, request),
    );
    this.armStageTimer(run);
  }

  private onRequestError(run: Run, e: unknown, method: string, request: number): void {
    if (this.run !== run) return;
    const f = classifyRequestError(e, method);
    if (f.ignorable) return this.note(run, "info", f.kind, `${f.reason}; waiting for the bot's message`);
    // The flow words the consequence itself ("...: retry 1/3", or the failure).
    if (!f.retryable && request === run.state.requests) this.note(run, "error", f.kind, f.reason);
    const at = performance.now();
    this.feed(run, { type: "error", reason: f.reason, retryable: f.retryable, request, ...(f.retryAfterMs ? { retryAfterMs: f.retryAfterMs } : {}), at }, "error");
  }

  private armStageTimer(run: Run): void {
    if (run.stageTimer) clearTimeout(run.stageTimer);
    run.stageTimer = setTimeout(() => {
      run.stageTimer = undefined;
      if (this.run !== run) return;
      this.note(run, "warn", "flow", `no reply from the bot within ${this.stageTimeoutMs} ms`);
      this.feed(run, { type: "timeout", at: performance.now() }, "timeout");
    }, this.stageTimeoutMs);
  }

  private onConnectionState(run: Run, up: boolean): void {
    const wasOffline = run.state.offlineSince !== undefined;
    this.feed(run, { type: "connection", up, at: performance.now() }, "error");
    if (up && wasOffline) void this.pollHistory(run, false);
    if (!up && !wasOffline) {
      const graceMs = RECONNECT_GRACE_STAGES * this.stageTimeoutMs;
      // Also keeps the process alive: once gramjs stops retrying, nothing else would.
      this.later(run, graceMs, () => {
        if (run.state.offlineSince === undefined) return;
        const reason = `lost the connection to Telegram and could not reconnect within ${graceMs / 1000} s`;
        this.feed(run, { type: "error", reason, retryable: false, at: performance.now() }, "error");
      });
    }
  }

  /** One history check, fed to the flow; `repeat`: keep checking every polling interval. */
  private async pollHistory(run: Run, repeat: boolean): Promise<void> {
    const intervalMs = this.opts.pollingIntervalMs ?? 30;
    let waitMs = intervalMs;
    try {
      const found = await run.history.check(run.tokens);
      if (this.run !== run) return;
      for (const ev of found) {
        this.note(run, "info", "history", `the history check found message ${ev.id} that no update delivered`);
        this.feed(run, { ...ev, at: performance.now() }, "message");
      }
    } catch (e) {
      if (this.run !== run) return;
      const f = classifyRequestError(e, "messages.GetHistory");
      waitMs = f.retryAfterMs ?? intervalMs * 10;
      this.note(run, "warn", "history", `history check: ${f.reason}; next check in ${waitMs} ms`);
    }
    if (repeat) this.later(run, waitMs, () => this.pollHistory(run, true));
  }

  private later(run: Run, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      run.timers.delete(t);
      if (this.run === run) fn();
    }, ms);
    run.timers.add(t);
  }

  private note(run: Run, level: BookingNote["level"], kind: BookingNote["kind"], message: string): void {
    const n: BookingNote = { level, kind, message };
    run.notes.push(n);
    if (!this.opts.log && !this.opts.onNote) return;
    const atMs = Number((performance.now() - run.startedAt).toFixed(2));
    setImmediate(() => {
      this.opts.log?.[level]("booking_note", { kind, at_ms: atMs }, message);
      this.opts.onNote?.(n);
    });
  }

  private finish(run: Run, failure?: string, cancelled = false): void {
    if (this.run !== run) return;
    this.run = undefined;
    run.trigger?.cancel();
    if (run.stageTimer) clearTimeout(run.stageTimer);
    for (const t of run.timers) clearTimeout(t);
    run.offAbort?.();
    const s = run.state;
    const t = s.times;
    const origin = t.originAt === undefined ? undefined : t.triggerAt === t.originAt ? "trigger" : t.announcementAt === t.originAt ? "announcement" : "menu";
    run.done({
      ok: s.result !== undefined,
      ...(s.result ? { result: s.result } : {}),
      ...(s.failure || failure ? { failure: s.failure ?? failure, stage: WAITING_FOR[s.failedIn ?? s.phase] } : {}),
      ...(cancelled ? { cancelled } : {}),
      ...(origin ? { origin } : {}),
      stats: stats(s),
      reactions: run.reactions,
      notes: run.notes,
      requests: s.requests,
      historyPolls: run.history.polls,
      historyHits: run.history.hits,
      ...(run.triggerLateMs !== undefined ? { triggerLateMs: run.triggerLateMs } : {}),
    });
  }
}
