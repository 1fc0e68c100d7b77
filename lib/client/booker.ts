// The hot path: pushed updates in, flow actions out, with nothing in between that waits.
//
// One Raw update handler turns each update from the bot into a flow event, steps the pure flow
// (lib/flow.ts) and hands the resulting requests to gramjs synchronously, without awaiting them:
// a button press never waits for the callback answer, a /start never waits for its ack. Results
// and failures come back through promise callbacks and turn into flow events (FLOOD_WAIT, network
// trouble) or refinements (startDelivered). Logging, notes and timers are set up after the
// request is handed over; notes reach the caller through setImmediate, never on the hot path.
//
// Clocks: flow events are stamped with performance.now(); the scheduled trigger is an epoch
// instant on the local monotonic clock (lib/timing.ts nowMs), i.e. already converted from the
// server's clock by the caller (ClockOffset.toLocal).

import "../gramjs-prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { Raw } from "telegram/events";
import { returnBigInt } from "telegram/Helpers";
import { UpdateConnectionState } from "telegram/network";
import { generateRandomLong } from "../gramjs-fast-longs.ts";
import { fastInvoke } from "./fast-invoke.ts";
import { warmUp } from "./warm-up.ts";
import {
  initialState,
  isFinished,
  step,
  stats,
  type BookingResult,
  type FlowConfig,
  type FlowEvent,
  type FlowState,
  type FlowStats,
  type FlowTimes,
  type MessageEvent,
  type RequestAction,
} from "../flow.ts";
import type { Logger } from "../log.ts";
import { formatCountdown, nowMs, preciseAt, sleepUntil, type Cancellable } from "../timing.ts";
import { classifyRequestError, type RequestFailure } from "./errors.ts";
import { messageFromBot, sameMessage, updateToEvent, type CallbackTokens } from "./updates.ts";

export type FlowInit = Partial<FlowConfig> & Pick<FlowConfig, "targets">;

export interface BookerOptions {
  /** The bot's username, without @. */
  botUsername: string;
  flow: FlowInit;
  /** Fallback history check interval (scheduled mode's final window only). Default 30. */
  pollingIntervalMs?: number;
  /** No reply within this long after a request: the flow's timeout (a fresh /start). Default 10 000. */
  stageTimeoutMs?: number;
  /** Run the hot path on made-up data first (see warm-up.ts); default true. */
  warmUp?: boolean;
  /** Notes (FLOOD_WAIT, reconnects, retries) are logged here after the fact. */
  log?: Logger;
  /** Called (off the hot path) for every note as it happens, e.g. to print it. */
  onNote?: (note: BookingNote) => void;
}

export interface BookOptions {
  /** Scheduled mode: local epoch ms (nowMs clock) at which to send /start without waiting for the announcement. */
  trigger?: number;
  /** Give up when neither the announcement nor the trigger has started the flow within this long. Default: wait forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Fallback history polling starts this long before the trigger. Default 10 000. Ignored without a trigger. */
  pollWindowMs?: number;
  /** Set false to disable the history fallback (e.g. benchmarks). Default true (it only runs with a trigger). */
  historyFallback?: boolean;
  /** Called once the booker is watching (after the history baseline), before any event. */
  onWatching?: () => void;
}

/** The client's own reaction: an event entering our handler → its request handed to gramjs. */
export interface Reaction {
  cause: "message" | "trigger" | "timer" | "timeout" | "error";
  action: "sendText" | "press";
  messageId?: number;
  ms: number;
  /** performance.now() when the request was handed over */
  at: number;
}

export interface BookingNote {
  at: number;
  level: "info" | "warn" | "error";
  kind: "flow" | "flood" | "rpc" | "network" | "other" | "history" | "connection";
  message: string;
}

export interface BookingOutcome {
  /** booked, or the bot says this user already holds a booking */
  ok: boolean;
  result?: BookingResult;
  failure?: string;
  cancelled?: boolean;
  /** what started the flow */
  origin?: "announcement" | "trigger" | "menu";
  stats: FlowStats;
  /** performance.now() stage stamps (see lib/flow.ts FlowTimes) */
  times: FlowTimes;
  reactions: Reaction[];
  notes: BookingNote[];
  /** requests handed to gramjs by the flow (history checks not included) */
  requests: number;
  historyPolls: number;
  /** messages the history fallback found that no pushed update had delivered */
  historyHits: number;
  /** how late the trigger fired after its instant, ms (scheduled mode) */
  triggerLateMs?: number;
  startedAt: number;
  finishedAt: number;
}

interface Run {
  state: FlowState;
  tokens: CallbackTokens;
  /** message id → the version we last fed to the flow */
  seen: Map<number, MessageEvent>;
  /** the newest message id before the booking began: older ones are never fed from history */
  baselineId?: number;
  reactions: Reaction[];
  notes: BookingNote[];
  requests: number;
  reqGen: number;
  historyPolls: number;
  historyHits: number;
  timers: Set<ReturnType<typeof setTimeout>>;
  stageTimer?: ReturnType<typeof setTimeout>;
  trigger?: Cancellable;
  triggerLateMs?: number;
  polling: boolean;
  pollInFlight: boolean;
  disconnected: boolean;
  startedAt: number;
  resolve: (o: BookingOutcome) => void;
  cancelled?: boolean;
  cleanup: (() => void)[];
}

const HISTORY_LIMIT = 10;
/** A lost connection that is not back within this many stage timeouts (connection_timeout) fails the booking. */
const RECONNECT_GRACE_STAGES = 3;

export class Booker {
  private run: Run | undefined;
  private readonly pollingIntervalMs: number;
  private readonly stageTimeoutMs: number;
  private readonly handler = (u: unknown): void => this.onUpdate(u);
  private readonly raw = new Raw({});

  private constructor(
    readonly tg: TelegramClient,
    readonly peer: Api.InputPeerUser,
    /** the bot's user id, as a decimal string (compared with update peers) */
    readonly botId: string,
    readonly selfId: string,
    private readonly opts: BookerOptions,
  ) {
    this.pollingIntervalMs = opts.pollingIntervalMs ?? 30;
    this.stageTimeoutMs = opts.stageTimeoutMs ?? 10_000;
  }

  /**
   * Resolves the bot once, calls getMe once (so gramjs's dispatcher never waits for the network on
   * the first update) and registers the one update handler.
   */
  /**
   * Who we are and the bot's InputPeer. A FLOOD_WAIT, a dropped connection or a Telegram-side
   * error is retried (see retryRequest), each retry reported in words through `retry.onRetry`
   * (default: a warning note to opts.onNote and opts.log); a wrong username is not.
   */
  static async prepare(tg: TelegramClient, opts: BookerOptions, retry: PrepareRetry = {}): Promise<Booker> {
    const r: RetryPolicy = {
      maxRetries: retry.maxRetries ?? opts.flow.maxRetries ?? DEFAULT_PREPARE_RETRIES,
      deadline: retry.deadline,
      signal: retry.signal,
      onRetry:
        retry.onRetry ??
        ((message, f) => {
          opts.log?.warn("prepare_retry", { kind: f.kind }, message);
          opts.onNote?.({ at: performance.now(), level: "warn", kind: f.kind, message });
        }),
    };
    const me = await retryRequest("users.GetUsers (who am I)", () => tg.getMe(), r);
    const peer = await retryRequest("contacts.ResolveUsername", () => resolveBot(tg, opts.botUsername), r);
    const b = new Booker(tg, peer, peer.userId.toString(), me.id.toString(), opts);
    if (opts.warmUp !== false) {
      warmUp(b.botId, peer, opts.flow);
      // Collect the warm-up's garbage now, so that no collection of it lands on the hot path.
      Bun.gc(true);
    }
    tg.addEventHandler(b.handler, b.raw);
    return b;
  }

  get busy(): boolean {
    return this.run !== undefined;
  }

  /** Sends /start and waits for the server's ack: the scheduled mode's warm-up, outside a booking. */
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
    const baselineId = await this.latestMessageId();
    const { promise, resolve } = Promise.withResolvers<BookingOutcome>();
    const run: Run = {
      state: step(initialState(this.opts.flow), { type: "start", at: performance.now() }).state,
      tokens: new Map(),
      seen: new Map(),
      baselineId,
      reactions: [],
      notes: [],
      requests: 0,
      reqGen: 0,
      historyPolls: 0,
      historyHits: 0,
      timers: new Set(),
      polling: false,
      pollInFlight: false,
      disconnected: false,
      startedAt: performance.now(),
      resolve,
      cleanup: [],
    };
    this.run = run;
    if (baselineId === undefined) this.note(run, "warn", "history", "could not read the chat history: the reconnect catch-up will only see edits");

    if (o.signal) {
      const onAbort = () => this.finish(run, "cancelled", true);
      o.signal.addEventListener("abort", onAbort, { once: true });
      run.cleanup.push(() => o.signal!.removeEventListener("abort", onAbort));
    }
    if (o.timeoutMs !== undefined) {
      this.later(run, o.timeoutMs, () => {
        if (run.state.phase === "waitingAnnouncement") this.feed(run, { type: "timeout", at: performance.now() }, "timeout", performance.now());
      });
    }
    if (o.trigger !== undefined) {
      const target = o.trigger;
      run.trigger = preciseAt(target, () => {
        const t0 = performance.now();
        run.triggerLateMs = nowMs() - target;
        this.feed(run, { type: "trigger", at: t0 }, "trigger", t0);
      });
      if (o.historyFallback !== false) {
        this.later(run, Math.max(0, target - (o.pollWindowMs ?? 10_000) - nowMs()), () => this.startPolling(run));
      }
    }
    o.onWatching?.();
    return promise;
  }

  // ---- the hot path ----

  private onUpdate(u: unknown): void {
    const t0 = performance.now();
    const run = this.run;
    if (run === undefined) return;
    if (u instanceof UpdateConnectionState) return this.onConnectionState(run, u.state);
    const ev = updateToEvent(u, this.botId, run.tokens, t0);
    if (ev === undefined) return;
    run.seen.set(ev.id, ev);
    this.feed(run, ev, "message", t0);
  }

  private feed(run: Run, ev: FlowEvent, cause: Reaction["cause"], t0: number): void {
    if (this.run !== run) return;
    const r = step(run.state, ev);
    run.state = r.state;
    for (const a of r.actions) {
      if (a.type === "sendText" || a.type === "press") this.exec(run, a, cause, t0, ev.type === "message" ? ev.id : undefined);
      else if (a.type === "log") this.note(run, a.level, "flow", a.message);
    }
    if (isFinished(run.state)) this.finish(run);
  }

  private exec(run: Run, a: RequestAction, cause: Reaction["cause"], t0: number, messageId?: number): void {
    if (a.delayMs) {
      const { delayMs, ...now } = a;
      if (run.stageTimer) clearTimeout(run.stageTimer); // the wait is deliberate, not a silent bot
      this.later(run, delayMs, () => {
        if (!isFinished(run.state)) this.exec(run, now as RequestAction, "timer", performance.now());
      });
      return;
    }
    const gen = ++run.reqGen;
    let p: Promise<unknown>;
    if (a.type === "sendText") {
      p = fastInvoke(this.tg, new Api.messages.SendMessage({ peer: this.peer, message: a.text, randomId: generateRandomLong() }));
    } else {
      const data = a.button.data === undefined ? undefined : run.tokens.get(a.button.data);
      if (data === undefined) {
        queueMicrotask(() => this.feed(run, { type: "error", reason: `button "${a.button.text}" has no callback data`, retryable: false, at: performance.now() }, "error", performance.now()));
        return;
      }
      p = fastInvoke(this.tg, new Api.messages.GetBotCallbackAnswer({ peer: this.peer, msgId: a.messageId, data }));
    }
    const t1 = performance.now();
    run.reactions.push({ cause, action: a.type, ...(messageId !== undefined ? { messageId } : {}), ms: t1 - t0, at: t1 });
    run.requests++;
    // Everything below runs after the request is handed over.
    const method = a.type === "sendText" ? "messages.SendMessage" : "messages.GetBotCallbackAnswer";
    p.then(
      a.type === "sendText" ? () => this.feed(run, { type: "startDelivered", at: performance.now() }, "message", performance.now()) : undefined,
      (e: unknown) => this.onRequestError(run, e, method, gen),
    );
    this.armStageTimer(run);
  }

  private onRequestError(run: Run, e: unknown, method: string, gen: number): void {
    if (this.run !== run) return;
    const f = classifyRequestError(e, method);
    if (f.ignorable) return this.note(run, "info", f.kind, `${f.reason}; waiting for the bot's message`);
    if (gen !== run.reqGen) return this.note(run, "warn", f.kind, `${f.reason} (an earlier request; the flow has moved on)`);
    // The flow words the consequence itself ("...: retry 1/3", or the failure): one line per error.
    if (!f.retryable) this.note(run, "error", f.kind, f.reason);
    const at = performance.now();
    this.feed(run, { type: "error", reason: f.reason, retryable: f.retryable, ...(f.retryAfterMs ? { retryAfterMs: f.retryAfterMs } : {}), at }, "error", at);
  }

  private armStageTimer(run: Run): void {
    if (run.stageTimer) clearTimeout(run.stageTimer);
    run.stageTimer = setTimeout(() => {
      run.stageTimer = undefined;
      if (this.run !== run) return;
      this.note(run, "warn", "flow", `no reply from the bot within ${this.stageTimeoutMs} ms`);
      const at = performance.now();
      this.feed(run, { type: "timeout", at }, "timeout", at);
    }, this.stageTimeoutMs);
  }

  // ---- connection and the history fallback ----

  private onConnectionState(run: Run, state: number): void {
    if (state === UpdateConnectionState.connected) {
      if (!run.disconnected) return;
      run.disconnected = false;
      this.note(run, "warn", "connection", "reconnected to Telegram; checking the chat for messages missed meanwhile");
      void this.pollHistory(run);
    } else if (!run.disconnected) {
      run.disconnected = true;
      const graceMs = RECONNECT_GRACE_STAGES * this.stageTimeoutMs;
      this.note(run, "warn", "connection", `connection to Telegram lost; gramjs is reconnecting (giving up after ${graceMs / 1000} s)`);
      // Also keeps the process alive: once gramjs stops retrying, nothing else would, and the
      // client would end without a word.
      this.later(run, graceMs, () => {
        if (!run.disconnected) return;
        const at = performance.now();
        const reason = `lost the connection to Telegram and could not reconnect within ${graceMs / 1000} s`;
        this.feed(run, { type: "error", reason, retryable: false, at }, "error", at);
      });
    }
  }

  private startPolling(run: Run): void {
    if (this.run !== run || run.polling) return;
    run.polling = true;
    const tick = async () => {
      if (this.run !== run) return;
      const waitMs = await this.pollHistory(run);
      if (this.run === run) this.later(run, waitMs ?? this.pollingIntervalMs, tick);
    };
    void tick();
  }

  /** One history check; returns a longer wait after a FLOOD_WAIT. */
  private async pollHistory(run: Run): Promise<number | undefined> {
    if (run.pollInFlight) return undefined;
    run.pollInFlight = true;
    run.historyPolls++;
    try {
      const res = await this.tg.invoke(this.historyRequest(HISTORY_LIMIT));
      if (this.run !== run || !("messages" in res)) return undefined;
      const msgs = res.messages;
      for (let i = msgs.length - 1; i >= 0; i--) {
        const t0 = performance.now();
        const ev = messageFromBot(msgs[i]!, this.botId, run.tokens, t0, false);
        if (!ev) continue;
        const prev = run.seen.get(ev.id);
        if (prev === undefined && (run.baselineId === undefined || ev.id <= run.baselineId)) continue;
        if (prev !== undefined && sameMessage(prev, ev)) continue;
        if (prev !== undefined) ev.edit = true;
        run.seen.set(ev.id, ev);
        run.historyHits++;
        this.note(run, "info", "history", `the history check found message ${ev.id} that no update delivered`);
        this.feed(run, ev, "message", t0);
        if (this.run !== run) break;
      }
      return undefined;
    } catch (e) {
      const f = classifyRequestError(e, "messages.GetHistory");
      if (this.run !== run) return undefined;
      const backoff = f.retryAfterMs ?? this.pollingIntervalMs * 10;
      this.note(run, "warn", f.kind, `history check: ${f.reason}; next check in ${backoff} ms`);
      return backoff;
    } finally {
      run.pollInFlight = false;
    }
  }

  private historyRequest(limit: number): Api.messages.GetHistory {
    return new Api.messages.GetHistory({ peer: this.peer, offsetId: 0, offsetDate: 0, addOffset: 0, limit, maxId: 0, minId: 0, hash: returnBigInt(0) });
  }

  /** The newest message id in the chat; one wait-and-retry on a short FLOOD_WAIT (not on the hot path). */
  private async latestMessageId(): Promise<number | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await this.tg.invoke(this.historyRequest(1));
        if (!("messages" in res)) return undefined;
        return res.messages.reduce((max, m) => Math.max(max, m.id), 0);
      } catch (e) {
        const f = classifyRequestError(e, "messages.GetHistory");
        if (attempt > 0 || f.kind !== "flood" || (f.retryAfterMs ?? 0) > this.stageTimeoutMs) return undefined;
        await Bun.sleep(f.retryAfterMs!);
      }
    }
    return undefined;
  }

  // ---- bookkeeping, off the hot path ----

  private later(run: Run, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      run.timers.delete(t);
      if (this.run === run) fn();
    }, ms);
    run.timers.add(t);
  }

  private note(run: Run, level: BookingNote["level"], kind: BookingNote["kind"], message: string): void {
    const n: BookingNote = { at: performance.now(), level, kind, message };
    run.notes.push(n);
    const { log, onNote } = this.opts;
    if (log || onNote) {
      setImmediate(() => {
        log?.[level]("booking_note", { kind, at_ms: Number((n.at - run.startedAt).toFixed(2)) }, message);
        onNote?.(n);
      });
    }
  }

  private finish(run: Run, failure?: string, cancelled = false): void {
    if (this.run !== run) return;
    this.run = undefined;
    run.trigger?.cancel();
    if (run.stageTimer) clearTimeout(run.stageTimer);
    for (const t of run.timers) clearTimeout(t);
    for (const f of run.cleanup) f();
    const s = run.state;
    const t = s.times;
    const outcome: BookingOutcome = {
      ok: s.result !== undefined,
      ...(s.result ? { result: s.result } : {}),
      ...(s.failure || failure ? { failure: s.failure ?? failure } : {}),
      ...(cancelled ? { cancelled } : {}),
      ...(t.originAt !== undefined
        ? { origin: t.triggerAt === t.originAt ? ("trigger" as const) : t.announcementAt === t.originAt ? ("announcement" as const) : ("menu" as const) }
        : {}),
      stats: stats(s),
      times: t,
      reactions: run.reactions,
      notes: run.notes,
      requests: run.requests,
      historyPolls: run.historyPolls,
      historyHits: run.historyHits,
      ...(run.triggerLateMs !== undefined ? { triggerLateMs: run.triggerLateMs } : {}),
      startedAt: run.startedAt,
      finishedAt: performance.now(),
    };
    run.resolve(outcome);
  }
}

/** The bot's InputPeer, from one contacts.resolveUsername. */
export const DEFAULT_PREPARE_RETRIES = 3;

export interface PrepareRetry {
  /** Retries after the first attempt. Default: opts.flow.maxRetries (performance.max_retries), else 3. */
  maxRetries?: number;
  /** nowMs() instant that no retry may wait past (scheduled mode: the opening). Default: none. */
  deadline?: number;
  signal?: AbortSignal;
  /** Each retry, in words, before its wait. */
  onRetry?: (message: string, failure: RequestFailure) => void;
}
type RetryPolicy = Required<Pick<PrepareRetry, "maxRetries" | "onRetry">> & Pick<PrepareRetry, "deadline" | "signal">;

/** Preparing failed for good; the message says what happened and why it was not retried further. */
export class PrepareError extends Error {
  constructor(
    message: string,
    readonly failure: RequestFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PrepareError";
  }
}

const inWords = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatCountdown(ms));

/**
 * Runs one request with bounded retries: at most `maxRetries` more attempts, each after the wait
 * Telegram asks for (FLOOD_WAIT's seconds) or a short pause, and never a wait that would end past
 * `deadline`. Errors that another attempt cannot fix (a wrong username, a refused request) are
 * thrown as they are.
 */
export async function retryRequest<T>(method: string, fn: () => Promise<T>, o: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason ?? e;
      const f = classifyRequestError(e, method);
      if (f.kind === "other" || !f.retryable) throw e;
      if (attempt > o.maxRetries) {
        throw new PrepareError(`${f.reason}; gave up after ${attempt} attempt${attempt === 1 ? "" : "s"} (performance.max_retries: ${o.maxRetries})`, f, { cause: e });
      }
      const wait = f.retryAfterMs ?? 500;
      if (o.deadline !== undefined) {
        const left = o.deadline - nowMs();
        if (wait >= left) {
          throw new PrepareError(`${f.reason}; not retrying: waiting ${inWords(wait)} would run past the opening (${inWords(Math.max(0, left))} left)`, f, { cause: e });
        }
      }
      o.onRetry(`${f.reason}; retry ${attempt} of ${o.maxRetries} in ${inWords(wait)}`, f);
      await sleepUntil(nowMs() + wait, o.signal);
    }
  }
}

export async function resolveBot(tg: TelegramClient, username: string): Promise<Api.InputPeerUser> {
  let res: Api.contacts.ResolvedPeer;
  try {
    res = await tg.invoke(new Api.contacts.ResolveUsername({ username }));
  } catch (e) {
    const msg = (e as { errorMessage?: string }).errorMessage;
    if (msg === "USERNAME_NOT_OCCUPIED" || msg === "USERNAME_INVALID") {
      throw new Error(`no bot @${username} on this Telegram server: check bot.username in the config (without @)`);
    }
    throw e;
  }
  const peer = res.peer;
  const user = peer instanceof Api.PeerUser ? res.users.find((u) => u instanceof Api.User && u.id.equals(peer.userId)) : undefined;
  if (!(user instanceof Api.User) || user.accessHash === undefined) {
    throw new Error(`@${username} is not a user or bot account: check bot.username in the config`);
  }
  return new Api.InputPeerUser({ userId: user.id, accessHash: user.accessHash });
}
