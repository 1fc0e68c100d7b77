// What a booking leaves behind: the seed's stats block and the lines under it, the booking_attempt
// log details, and (off the hot path) a note to Saved Messages and a terminal bell.

import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import type { FlowStats } from "../flow.ts";
import { percentile } from "../percentile.ts";
import { withTimeout } from "../timing.ts";
import { CLIENT_TEXT } from "../ui.ts";
import type { BookingOutcome } from "./booker.ts";
import type { ClientConfig } from "./config.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";

/**
 * The seed's block: its total is the sum of the three stages, so the lines add up; only the stages
 * that happened are shown (no invented numbers). Values are right-aligned to column 22, as in the seed,
 * and always one space from their label (the seed's "Выбор → подтверд: 32ms" has one to spare).
 */
export function statsBlock(s: FlowStats): string {
  const line = (label: string, ms: number) => label + " " + `${Math.round(ms)}ms`.padStart(21 - label.length);
  const stages = (["smsToStart", "startToSelect", "selectToConfirm"] as const).filter((k) => s[k] !== undefined);
  const lines = stages.map((k) => line(CLIENT_TEXT.stats[k], s[k]!));
  if (s.total !== undefined) lines.push("━".repeat(20), line(CLIENT_TEXT.stats.total, s.total));
  return lines.length ? lines.join("\n") : "(no stage of the booking happened)";
}

/** Reactions to the bot's messages and to the trigger (not retries or timers). */
function reactionSummary(o: BookingOutcome): { count: number; p50: number; max: number } | undefined {
  const xs = o.reactions.filter((r) => r.cause === "message" || r.cause === "trigger").map((r) => r.ms);
  return xs.length ? { count: xs.length, p50: percentile(xs, 50), max: Math.max(...xs) } : undefined;
}

export function attemptReport(o: BookingOutcome): string {
  const lines = [statsBlock(o.stats)];
  const s = o.stats;
  if (s.confirmToResult !== undefined) {
    const after = s.toResult !== undefined ? `; ${Math.round(s.toResult)} ms from the start` : "";
    lines.push(`result received ${Math.round(s.confirmToResult)} ms after the confirm press${after}`);
  }
  if (o.result) lines.push(`bot: ${o.result.text.split("\n")[0]}`);
  if (o.result?.transport) lines.push(`transport: ${o.result.transport.split("\n")[0]}`);
  const r = reactionSummary(o);
  if (r) lines.push(`client reaction (update → request handed to gramjs): median ${r.p50.toFixed(3)} ms, max ${r.max.toFixed(3)} ms over ${r.count} requests`);
  if (o.origin) {
    const late = o.triggerLateMs !== undefined ? ` (trigger fired ${o.triggerLateMs.toFixed(2)} ms after its instant)` : "";
    lines.push(`started by: ${{ trigger: "the scheduled trigger", announcement: "the announcement", menu: "a menu" }[o.origin]}${late}`);
  }
  return lines.join("\n");
}

/** The last line: what happened, or what failed and why (printed after any warnings). */
export function resultOf(o: BookingOutcome): string {
  if (!o.result) return `result: not booked: ${o.failure ?? "unknown reason"}${o.stage ? ` (${o.stage})` : ""}`;
  const retries = o.result.retries ? `, ${o.result.retries} retries` : "";
  return o.result.outcome === "booked" ? `result: booked (${o.result.attempts} transport presses${retries})` : "result: this account already holds a booking";
}

/** `details` of the booking_attempt log line: the seed's jq reads .details.total_time_ms. */
export function attemptDetails(o: BookingOutcome, mode: string): Record<string, unknown> {
  const r2 = (x: number | undefined) => (x === undefined ? undefined : Number(x.toFixed(2)));
  const r = reactionSummary(o);
  return {
    mode,
    success: o.ok,
    outcome: o.result?.outcome ?? "failed",
    transport: o.result?.transport,
    // the seed's total (ends at the confirm press); result_ms runs on to the bot's result
    total_time_ms: r2(o.stats.total),
    result_ms: r2(o.stats.toResult),
    sms_to_start_ms: r2(o.stats.smsToStart),
    start_to_select_ms: r2(o.stats.startToSelect),
    select_to_confirm_ms: r2(o.stats.selectToConfirm),
    confirm_to_result_ms: r2(o.stats.confirmToResult),
    origin: o.origin,
    attempts: o.result?.attempts,
    retries: o.result?.retries,
    requests: o.requests,
    reaction_ms_p50: r ? Number(r.p50.toFixed(4)) : undefined,
    reaction_ms_max: r ? Number(r.max.toFixed(4)) : undefined,
    history_hits: o.historyHits,
    trigger_late_ms: r2(o.triggerLateMs),
    failure: o.failure,
    failed_stage: o.stage,
  };
}

export function notificationText(o: BookingOutcome): string {
  const head = !o.result
    ? CLIENT_TEXT.notifyFailed(o.failure && o.stage ? `${o.failure} (${o.stage})` : o.failure)
    : o.result.outcome === "booked"
      ? CLIENT_TEXT.notifyBooked(o.result.transport?.split("\n")[0])
      : CLIENT_TEXT.notifyAlreadyBooked;
  return `${head}\n\n${statsBlock(o.stats)}`;
}

/** Returns the problems met (never throws): a failed notification must not hide the booking. */
export async function notify(tg: TelegramClient | undefined, cfg: ClientConfig, o: BookingOutcome): Promise<string[]> {
  if (cfg.notifications.sound_alert) process.stdout.write("\x07");
  if (!cfg.notifications.telegram_notify || !tg) return [];
  const problem = (why: string) => [`could not send the notification to Saved Messages: ${why}`];
  if (!tg.connected) return problem("not connected to Telegram");
  const timeoutMs = cfg.performance.connection_timeout * 1000;
  try {
    // gramjs holds a request until it reconnects, which may be never: do not hang the exit on it.
    const sent = tg.invoke(new Api.messages.SendMessage({ peer: new Api.InputPeerSelf(), message: notificationText(o), randomId: generateRandomLong() }));
    await withTimeout(sent, timeoutMs, `no answer within ${timeoutMs / 1000} s`);
    return [];
  } catch (e) {
    return problem((e as Error).message);
  }
}
