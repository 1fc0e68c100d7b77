// The booking flow as a pure state machine: step(state, event) -> { state, actions }, no I/O or clock.
//   idle --start--> waitingAnnouncement --announcement--> startSent --menu--> selectPressed
//        --confirm prompt--> confirmPressed --booked--> done
// Stages the bot skips are skipped; messages that fit no transition change nothing (so the "not
// open" reply to scheduled mode's warm-up /start, which arrives while the flow waits, is no retry).

import { RECOGNISE, SOLD_OUT_LABELS } from "./ui.ts";

/** What the client looks for in the bot's texts (soldOutButton: in button labels): any of the strings, case-insensitive. */
export type RecogniseTexts = Record<keyof typeof RECOGNISE | "soldOutButton", string[]>;

export type Target = { cities: string[]; priority: number };

export interface FlowConfig {
  targets: Target[];
  texts: RecogniseTexts;
  maxRetries: number;
  /** first delay (ms) of a /start re-sent after "not open"; doubles each time */
  retryDelayMs: number;
  /** how long (ms from the first "not open") to keep asking: the bot's clock may be a second off */
  notOpenWindowMs: number;
}

export const NOT_OPEN_MAX_DELAY_MS = 1000;
const NOT_OPEN_MIN_DELAY_MS = 10;

export interface Button {
  text: string;
  /** opaque callback token; the adapter maps it back to the real button */
  data?: string;
  /** a reply-keyboard button: pressing it sends its label as a message */
  reply?: boolean;
}

export interface MessageEvent {
  type: "message";
  id: number;
  text: string;
  buttons: Button[][];
  keyboardRemoved?: boolean;
  at: number;
}
// answer: the bot's alert or toast for request number `request`. startDelivered: the server acked
// our /start, so "SMS → /start" includes the trip, as the seed measured it.
export type FlowEvent =
  | MessageEvent
  | { type: "answer"; text: string; request: number; at: number }
  | { type: "error"; reason: string; retryable: boolean; retryAfterMs?: number; request?: number; at: number }
  | { type: "start"; at?: number }
  | { type: "trigger"; at: number }
  | { type: "timeout"; at: number }
  | { type: "startDelivered"; at: number };

/** A press fires the request and never waits for the callback answer. */
export type RequestAction = { type: "sendText"; text: string; delayMs?: number } | { type: "press"; messageId: number; button: Button; delayMs?: number };
type LogAction = { type: "log"; level: "info" | "warn"; message: string };
export type FlowAction = RequestAction | LogAction | { type: "done"; result: BookingResult } | { type: "failed"; reason: string };

export interface BookingResult {
  outcome: "booked" | "alreadyBooked";
  text: string;
  transport?: string;
  stats: FlowStats;
  attempts: number;
  /** error and timeout retries, plus /start re-sent while booking was not open */
  retries: number;
}

type Phase = "idle" | "waitingAnnouncement" | "startSent" | "selectPressed" | "confirmPressed" | "done" | "failed";
/** originAt: the announcement or the trigger, whichever came first. startSentAt keeps the first /start; the others the latest. */
type Stamp = "announcementAt" | "triggerAt" | "originAt" | "startSentAt" | "startDeliveredAt" | "selectAt" | "confirmAt" | "resultAt";

export interface FlowState {
  readonly config: FlowConfig;
  readonly phase: Phase;
  readonly times: Readonly<Partial<Record<Stamp, number>>>;
  /** the latest message with transport buttons: where a sold-out fallback looks first */
  readonly menu?: { messageId: number; buttons: Button[][] };
  /** the transport pressed and not yet resolved */
  readonly current?: Button;
  readonly soldOut: readonly string[];
  readonly attempts: number;
  readonly retries: number;
  readonly notOpen: number;
  readonly firstNotOpenAt?: number;
  /** what an error retry repeats (without its delay) */
  readonly lastRequest?: RequestAction;
  readonly requests: number;
  /** an answer said this (sold out, not open) and we acted: the same news in the next message is an echo */
  readonly echo?: "soldOut" | "notOpen";
  readonly result?: BookingResult;
  readonly failure?: string;
  readonly failedIn?: Phase;
}

type StepResult = { state: FlowState; actions: FlowAction[] };

export const DEFAULT_FLOW_CONFIG: Omit<FlowConfig, "targets"> = {
  texts: { ...(Object.fromEntries(Object.entries(RECOGNISE).map(([k, v]) => [k, [v]])) as RecogniseTexts), soldOutButton: SOLD_OUT_LABELS },
  maxRetries: 3,
  retryDelayMs: 0,
  notOpenWindowMs: 10_000,
};

export function initialState(flow: Partial<FlowConfig> & Pick<FlowConfig, "targets">): FlowState {
  const texts = Object.entries({ ...DEFAULT_FLOW_CONFIG.texts, ...flow.texts }).map(([k, v]) => [k, v.map((x) => x.toLowerCase())]);
  const config = { ...DEFAULT_FLOW_CONFIG, ...flow, texts: Object.fromEntries(texts) as RecogniseTexts };
  return { config, phase: "idle", times: {}, soldOut: [], attempts: 0, retries: 0, notOpen: 0, requests: 0 };
}

/** `text` lowercased, `patterns` lowercased by initialState. */
export const mentions = (text: string, patterns: readonly string[]) => patterns.some((p) => text.includes(p));
export const isFinished = (state: FlowState) => state.phase === "done" || state.phase === "failed";
/** Identity of a transport across menus: its callback token (button texts carry changing seat counts). */
export const transportKey = (b: Button) => b.data ?? b.text;

/**
 * The first button in reading order that mentions a city of the best-priority target (lowest
 * number; ties: list order) that has one; buttons naming no target city are not transports for us.
 */
export function chooseTransport(buttons: Button[][], targets: readonly Target[], soldOut: readonly string[] = [], soldOutLabels: readonly string[] = []): { button: Button; target: Target } | undefined {
  const flat = buttons.flat().filter((b) => !labelSaysSoldOut(b.text, soldOutLabels));
  const ranked = targets.map((t, i) => ({ t, i })).sort((a, b) => a.t.priority - b.t.priority || a.i - b.i);
  for (const { t } of ranked) {
    const button = flat.find((b) => !soldOut.includes(transportKey(b)) && t.cities.some((c) => b.text.includes(c)));
    if (button) return { button, target: t };
  }
  return undefined;
}

/** Whether a label mentions one of the sold-out labels; "0 мест" does not match "10 мест". */
export function labelSaysSoldOut(label: string, labels: readonly string[]): boolean {
  const l = label.toLowerCase();
  return labels.some((p) => {
    for (let i = l.indexOf(p); i >= 0; i = l.indexOf(p, i + 1)) if (!/\d/.test(p[0]!) || !/\d/.test(l[i - 1] ?? "")) return true;
    return false;
  });
}

export const findConfirmButton = (buttons: Button[][], confirm: readonly string[]) =>
  buttons.flat().find((b) => mentions(b.text.toLowerCase(), confirm));

/**
 * The seed's stages, ms (undefined: not finished; 0: skipped). `total` is the seed's "Общее время",
 * the sum of the three stages up to the confirm press (47 + 38 + 32 = 117); `toResult` runs on to the result.
 */
export type FlowStats = Partial<Record<"smsToStart" | "startToSelect" | "selectToConfirm" | "confirmToResult" | "total" | "toResult", number>>;

export function stats(state: FlowState): FlowStats {
  const t = state.times;
  const diff = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a);
  const selected = t.selectAt !== undefined;
  const started = t.startDeliveredAt ?? t.startSentAt;
  // The last press of the three stages: confirm, or the transport press when no confirm step came.
  const pressedAt = t.confirmAt ?? (t.resultAt !== undefined && selected ? t.selectAt : undefined);
  return {
    smsToStart: started !== undefined ? diff(t.originAt, started) : selected ? 0 : undefined,
    startToSelect: diff(started ?? t.originAt, t.selectAt),
    selectToConfirm: t.confirmAt !== undefined ? diff(t.selectAt, t.confirmAt) : t.resultAt !== undefined && selected ? 0 : undefined,
    confirmToResult: diff(t.confirmAt ?? t.selectAt, t.resultAt),
    total: diff(t.originAt, pressedAt),
    toResult: diff(t.originAt, t.resultAt),
  };
}

const START: RequestAction = { type: "sendText", text: "/start" };
const unchanged = (state: FlowState): StepResult => ({ state, actions: [] });
const logged = (r: StepResult, message: string): StepResult => ({ state: r.state, actions: [...r.actions, { type: "log", level: "warn", message }] });
const isWaiting = (s: FlowState) => s.phase === "waitingAnnouncement";

export function step(state: FlowState, event: FlowEvent): StepResult {
  if (state.phase === "idle") return unchanged(event.type === "start" ? { ...state, phase: "waitingAnnouncement" } : state);
  if (isFinished(state) || event.type === "start") return unchanged(state);
  switch (event.type) {
    case "trigger":
      if (!isWaiting(state)) return unchanged(state); // the announcement came first
      return sendStart({ ...state, times: { ...state.times, triggerAt: event.at, originAt: event.at } }, event.at);
    case "message":
      return onMessage(state, event);
    case "answer":
      return onAnswer(state, event.text, event.request, event.at);
    case "timeout":
      if (isWaiting(state)) return fail(state, "no announcement from the bot before the deadline");
      // Whatever got lost, a fresh /start gets a fresh menu (and a late result is still accepted).
      return retry(state, START, event.at, "no reply from the bot in time");
    case "error":
      if (event.request !== undefined && event.request !== state.requests) {
        return logged(unchanged(state), `${event.reason} (an earlier request; the flow has moved on)`);
      }
      if (!event.retryable) return fail(state, event.reason);
      if (isWaiting(state)) return logged(unchanged(state), `${event.reason} (still waiting for the announcement)`);
      return retry(state, state.lastRequest ?? START, event.at, event.reason, event.retryAfterMs);
    case "startDelivered":
      if (state.times.startSentAt === undefined || state.times.startDeliveredAt !== undefined) return unchanged(state);
      return unchanged({ ...state, times: { ...state.times, startDeliveredAt: event.at } });
  }
}

function onMessage(state: FlowState, e: MessageEvent): StepResult {
  const { texts, targets } = state.config;
  const isMenu = chooseTransport(e.buttons, targets) !== undefined;
  const text = e.text.toLowerCase();
  const isAnnouncement = mentions(text, texts.announcement);
  // Keep the latest menu for sold-out fallbacks; forget it once that message is edited into
  // something else, or (a reply keyboard) removed.
  let menu = state.menu;
  if (isMenu) menu = { messageId: e.id, buttons: e.buttons };
  else if (menu?.messageId === e.id || (e.keyboardRemoved && menu?.buttons[0]?.[0]?.reply)) menu = undefined;
  let s: FlowState = menu === state.menu && !state.echo ? state : { ...state, menu, echo: undefined };
  if (state.echo && mentions(text, texts[state.echo])) return unchanged(s);

  if (isWaiting(s)) {
    if (!isMenu && !isAnnouncement) return unchanged(state);
    s = { ...s, times: { ...s.times, originAt: e.at, ...(isAnnouncement ? { announcementAt: e.at } : {}) } };
    return isMenu ? pressTransport(s, e.id, e.buttons, e.at) : sendStart(s, e.at);
  }

  // A late announcement after a trigger: worth recording, not worth acting on (unless it is a menu,
  // below), except while we back off on "not open": then it is the news we were waiting for.
  if (isAnnouncement && s.times.announcementAt === undefined) {
    s = { ...s, times: { ...s.times, announcementAt: e.at } };
    if (s.phase === "startSent" && s.notOpen > 0 && !isMenu) return sendStart(s, e.at);
  }

  // Results are accepted in every active phase: after a timeout and a fresh /start, the answer
  // to the earlier press may still arrive, and it is just as valid.
  if (mentions(text, texts.alreadyBooked)) return finish(s, "alreadyBooked", e);
  if (mentions(text, texts.booked)) return finish(s, "booked", e);
  if (mentions(text, texts.soldOut) && s.current) return onSoldOut(s, e.at);

  const confirm = s.phase === "startSent" || s.phase === "selectPressed" ? findConfirmButton(e.buttons, texts.confirmButton) : undefined;
  if (confirm) {
    const times = { ...s.times, confirmAt: e.at };
    return request({ ...s, phase: "confirmPressed", times }, { type: "press", messageId: e.id, button: confirm });
  }
  if (s.phase === "startSent" && isMenu) return pressTransport(s, e.id, e.buttons, e.at);
  if (mentions(text, texts.notOpen)) return onNotOpen(s, e.at);
  return unchanged(s);
}

/** A callback answer is read like a message without buttons if it answers the latest request. */
function onAnswer(state: FlowState, text: string, request: number, at: number): StepResult {
  if (request !== state.requests || !text || isWaiting(state)) return unchanged(state);
  const r = onMessage(state, { type: "message", id: 0, text, buttons: [], at });
  if (r.state.requests === state.requests) return r;
  // It made us act (sold out, not open): the bot's message saying the same is an echo.
  const echo = mentions(text.toLowerCase(), state.config.texts.soldOut) ? "soldOut" : "notOpen";
  return { ...r, state: { ...r.state, echo } };
}

/** A trigger early by the bot's clock: /start again with a doubling backoff, within notOpenWindowMs. */
function onNotOpen(state: FlowState, at: number): StepResult {
  const { notOpenWindowMs, retryDelayMs } = state.config;
  const first = state.firstNotOpenAt ?? at;
  if (at - first >= notOpenWindowMs) {
    return fail(state, `booking is not open yet; gave up after ${state.notOpen} retries over ${Math.round((at - first) / 1000)} s`);
  }
  const delayMs = Math.min(NOT_OPEN_MAX_DELAY_MS, Math.max(NOT_OPEN_MIN_DELAY_MS, retryDelayMs) * 2 ** state.notOpen);
  const s = { ...state, notOpen: state.notOpen + 1, firstNotOpenAt: first };
  return logged(sendStart(s, at, delayMs), `booking is not open yet: /start again in ${delayMs} ms`);
}

function onSoldOut(state: FlowState, at: number): StepResult {
  const gone = state.current!;
  const s: FlowState = { ...state, current: undefined, soldOut: [...state.soldOut, transportKey(gone)] };
  const r =
    s.menu && chooseTransport(s.menu.buttons, s.config.targets, s.soldOut, s.config.texts.soldOutButton)
      ? pressTransport(s, s.menu.messageId, s.menu.buttons, at)
      : // No other target in the menu we hold: ask for a fresh one (seat counts may have changed).
        sendStart({ ...s, menu: undefined }, at);
  return logged(r, `sold out: ${gone.text}; trying the next target`);
}

function pressTransport(state: FlowState, messageId: number, buttons: Button[][], at: number): StepResult {
  const choice = chooseTransport(buttons, state.config.targets, state.soldOut, state.config.texts.soldOutButton);
  if (!choice) return fail(state, "every transport matching the targets is sold out");
  const times = { ...state.times, selectAt: at };
  const s: FlowState = { ...state, phase: "selectPressed", times, current: choice.button, attempts: state.attempts + 1 };
  return request(s, { type: "press", messageId, button: choice.button });
}

function sendStart(state: FlowState, at: number, delayMs?: number): StepResult {
  const times = state.times.startSentAt === undefined ? { ...state.times, startSentAt: at } : state.times;
  return request({ ...state, phase: "startSent", times }, START, delayMs);
}

function request(state: FlowState, action: RequestAction, delayMs?: number): StepResult {
  const s = { ...state, lastRequest: action, requests: state.requests + 1 };
  return { state: s, actions: [delayMs ? { ...action, delayMs } : action] };
}

function retry(state: FlowState, action: RequestAction, at: number, why: string, delayMs?: number): StepResult {
  const { maxRetries } = state.config;
  if (state.retries >= maxRetries) {
    return fail(state, maxRetries === 0 ? `${why} (retries disabled)` : `${why}; gave up after ${maxRetries} retries`);
  }
  const s = { ...state, retries: state.retries + 1 };
  const r = action.type === "sendText" ? sendStart(s, at, delayMs) : request(s, action, delayMs);
  return logged(r, `${why}: retry ${s.retries}/${maxRetries}`);
}

function finish(state: FlowState, outcome: BookingResult["outcome"], e: MessageEvent): StepResult {
  const s: FlowState = { ...state, phase: "done", times: { ...state.times, resultAt: e.at } };
  const result: BookingResult = {
    outcome,
    text: e.text,
    transport: state.current?.text,
    stats: stats(s),
    attempts: s.attempts,
    retries: s.retries + s.notOpen,
  };
  return { state: { ...s, result }, actions: [{ type: "done", result }] };
}

function fail(state: FlowState, reason: string): StepResult {
  // No result time: a failure is not a result, and no total may be computed from a timeout.
  return { state: { ...state, phase: "failed", failedIn: state.phase, failure: reason }, actions: [{ type: "failed", reason }] };
}
