// gramio, behind one fence: a Bot whose every call has a timeout (gramio 0.10 has none: a black-holed
// request waits minutes) and whose long poll survives network faults with one log line each.
// One gramio internal: a call spreads `api.fetchOptions` synchronously when it starts, so a getter
// can hand the long poll its own signal. The hung-poll test fails if that moves.

import { Bot, TelegramError } from "gramio";
import type { Logger } from "../log.ts";
import { backoffMs } from "../retry.ts";

const CALL_TIMEOUT_MS = 10_000;

export function telegramBot(token: string, url: string, log: Logger, pollTimeoutS: number, pollMarginMs: number) {
  const pollAbort = new AbortController();
  const sendAbort = new AbortController();
  let polling = false;
  const fetchOptions = {
    get signal() {
      return polling
        ? AbortSignal.any([pollAbort.signal, AbortSignal.timeout(pollTimeoutS * 1000 + pollMarginMs)])
        : AbortSignal.any([sendAbort.signal, AbortSignal.timeout(CALL_TIMEOUT_MS)]);
    },
  } as RequestInit;
  const bot = new Bot(token, { api: { baseURL: `${url}/bot`, fetchOptions } });

  // A failed poll is logged and answered with no updates: gramio polls again (after a short
  // backoff here; at once after a timeout), and the recovery is logged.
  let failures = 0;
  bot.onApiCall("getUpdates", (_ctx, next) => {
    polling = true;
    const p = next(); // async: the call has read fetchOptions by now, and never throws here
    polling = false;
    return p.then(
      (updates) => {
        if (failures) log.info("polling_recovered", { failures }, `Polling works again after ${failures} failed attempt(s)`);
        failures = 0;
        return updates;
      },
      async (e: unknown) => {
        if (pollAbort.signal.aborted) return [];
        failures++;
        const error = e instanceof Error ? e.message : String(e);
        if (e instanceof Error && e.name === "TimeoutError") {
          log.warn("polling_timeout", { failures, error }, "The long poll got no answer in time; polling again");
          return [];
        }
        if (e instanceof TelegramError && e.code === 409) {
          log.error("polling_conflict", { failures, error }, "409 Conflict: another instance with this BOT_TOKEN is polling, or a webhook is set. Stop the other instance (or call deleteWebhook for this token); retrying");
        } else log.warn("polling_failed", { failures, error }, `Polling ${url} failed (${error}); retrying`);
        await Bun.sleep(backoffMs(failures, 500, 5_000));
        return [];
      },
    ) as ReturnType<typeof next>;
  });
  return { bot, stopPolling: () => pollAbort.abort(), abortSends: () => sendAbort.abort() };
}
