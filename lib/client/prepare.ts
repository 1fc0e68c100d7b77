// Everything the hot path needs before the opening: who we are and the bot's InputPeer, each
// lookup retried (lib/retry.ts) on FLOOD_WAIT or network trouble within performance.max_retries
// and never waiting past the opening; a wrong username is not retried.

import "./gramjs/prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { retry } from "../retry.ts";
import { formatCountdown } from "../timing.ts";
import { Booker, type BookerOptions } from "./booker.ts";
import { classifyRequestError, type RequestFailure } from "./errors.ts";
import { warmUp } from "./warm-up.ts";

export interface PrepareRetry {
  /** Retries after the first attempt. Default: opts.flow.maxRetries (performance.max_retries), else 3. */
  maxRetries?: number;
  /** nowMs() instant that no retry may wait past (scheduled mode: the opening). */
  deadline?: number;
  signal?: AbortSignal;
  /** Each retry, in words, before its wait. Default: a warning note (opts.onNote, opts.log). */
  onRetry?: (message: string, failure: RequestFailure) => void;
}

/** A request failure in words (RequestFailure), as the retry helper sees it. */
export class RequestError extends Error {
  constructor(readonly failure: RequestFailure, options?: { cause?: unknown }) {
    super(failure.reason, options);
    this.name = "RequestError";
  }
}

export const inWords = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${Number((ms / 1000).toFixed(1))} s` : formatCountdown(ms));

/** Resolves us and the bot, warms the hot path up and registers the booker's update handler. */
export async function prepareBooker(tg: TelegramClient, opts: BookerOptions, r: PrepareRetry = {}): Promise<Booker> {
  const maxRetries = r.maxRetries ?? opts.flow.maxRetries ?? 3;
  const onRetry =
    r.onRetry ??
    ((message: string, f: RequestFailure) => {
      opts.log?.warn("prepare_retry", { kind: f.kind }, message);
      opts.onNote?.({ at: performance.now(), level: "warn", kind: f.kind, message });
    });
  const withRetries = <T>(method: string, fn: () => Promise<T>) =>
    retry(
      () =>
        fn().catch((e: unknown) => {
          const f = classifyRequestError(e, method);
          throw f.kind === "other" || !f.retryable ? e : new RequestError(f, { cause: e });
        }),
      {
        maxAttempts: maxRetries + 1,
        deadline: r.deadline,
        signal: r.signal,
        delayFor: (e) => (e instanceof RequestError ? (e.failure.retryAfterMs ?? 500) : undefined),
        onRetry: (e, attempt, ms) => onRetry(`${(e as RequestError).message}; retry ${attempt} of ${maxRetries} in ${inWords(ms)}`, (e as RequestError).failure),
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
  booker.listen();
  return booker;
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
