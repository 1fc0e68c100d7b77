// The seed's stats block, printed after each attempt, plus what our client adds to it.

import type { FlowStats } from "../flow.ts";
import { CLIENT_TEXT } from "../ui.ts";
import { percentile } from "../percentile.ts";
import type { BookingOutcome } from "./booker.ts";

const WIDTH = 22; // the seed's lines: label, then the value right-aligned to column 22
export const SEPARATOR = "━".repeat(20);

function line(label: string, ms: number | undefined): string {
  const value = ms === undefined ? "—" : `${Math.round(ms)}ms`;
  return label + value.padStart(Math.max(1, WIDTH - label.length));
}

/**
 * The seed's block; its total is the sum of the three stages (announcement/trigger → confirm
 * press), so the lines add up. The trip to the bot's result is printed below it (resultLine).
 *
 * SMS → /start:     47ms
 * /start → выбор:   38ms
 * Выбор → подтверд: 32ms
 * ━━━━━━━━━━━━━━━━━━━━
 * Общее время:     117ms
 */
export function statsBlock(s: FlowStats): string {
  // Only the stages that happened: a failed run shows no invented numbers.
  const stages = [
    [CLIENT_TEXT.stats.smsToStart, s.smsToStart],
    [CLIENT_TEXT.stats.startToSelect, s.startToSelect],
    [CLIENT_TEXT.stats.selectToConfirm, s.selectToConfirm],
  ] as const;
  const lines = stages.filter(([, ms]) => ms !== undefined).map(([label, ms]) => line(label, ms));
  if (s.total !== undefined) lines.push(SEPARATOR, line(CLIENT_TEXT.stats.total, s.total));
  return lines.length ? lines.join("\n") : "(no stage of the booking happened)";
}

/** The time after the block's stages: the confirm press → the bot's result, in words. */
export function resultLine(s: FlowStats): string | undefined {
  if (s.confirmToResult === undefined) return undefined;
  const after = s.toResult !== undefined ? `; ${Math.round(s.toResult)} ms from the start` : "";
  return `result received ${Math.round(s.confirmToResult)} ms after the confirm press${after}`;
}

export interface ReactionSummary {
  count: number;
  p50: number;
  max: number;
}

export function reactionSummary(o: Pick<BookingOutcome, "reactions">): ReactionSummary | undefined {
  const xs = o.reactions.filter((r) => r.cause === "message" || r.cause === "trigger").map((r) => r.ms);
  if (xs.length === 0) return undefined;
  return { count: xs.length, p50: percentile(xs, 50), max: Math.max(...xs) };
}

/** The block and the lines under it: the transport, the client's own reaction time (not the result line). */
export function attemptReport(o: BookingOutcome): string {
  const lines = [statsBlock(o.stats)];
  const after = resultLine(o.stats);
  if (after) lines.push(after);
  if (o.result) lines.push(`bot: ${o.result.text.split("\n")[0]}`);
  if (o.result?.transport) lines.push(`transport: ${o.result.transport.split("\n")[0]}`);
  const r = reactionSummary(o);
  if (r) lines.push(`client reaction (update → request handed to gramjs): median ${r.p50.toFixed(3)} ms, max ${r.max.toFixed(3)} ms over ${r.count} requests`);
  if (o.origin) lines.push(`started by: ${o.origin === "trigger" ? "the scheduled trigger" : o.origin === "announcement" ? "the announcement" : "a menu"}${o.triggerLateMs !== undefined ? ` (trigger fired ${o.triggerLateMs.toFixed(2)} ms after its instant)` : ""}`);
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
    // the seed's total: the sum of the three stages, ending at the confirm press
    total_time_ms: r2(o.stats.total),
    // origin → the bot's result (total + confirm_to_result_ms)
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
