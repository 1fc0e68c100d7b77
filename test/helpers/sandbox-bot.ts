// Shared by the sandbox tests: a gramio Bot on a sandbox, stopped without a stray long poll.

import { Bot } from "gramio";
import type { Sandbox } from "../../sandbox/index.ts";

/** An unmodified gramio Bot pointed at the sandbox, polling with a short timeout. */
export function sandboxBot(sb: Sandbox, token: string): Bot {
  return new Bot(token, { api: { baseURL: `${sb.botApiUrl}/bot` } });
}

export async function startBot(bot: Bot): Promise<void> {
  await bot.start({ longPolling: { timeout: 5 } });
}

/**
 * gramio's stop() leaves its long poll open; end it with an empty answer (as a timeout would)
 * so the poll loop sees it was stopped, and wait until it has.
 */
export async function stopBot(sb: Sandbox, bot: Bot): Promise<void> {
  await bot.stop();
  const id = bot.info?.id;
  const world = id === undefined ? undefined : sb.world.bots.get(id);
  for (let i = 0; i < 200 && bot.updates.isRequestActive; i++) {
    if (world) for (const wake of [...world.waiters]) wake();
    await Bun.sleep(5);
  }
}

export async function api(sb: Sandbox, token: string, method: string, init?: { json?: unknown; form?: Record<string, string>; query?: string }) {
  const url = `${sb.botApiUrl}/bot${token}/${method}${init?.query ? `?${init.query}` : ""}`;
  const res = init?.json
    ? await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(init.json) })
    : init?.form
      ? await fetch(url, { method: "POST", body: new URLSearchParams(init.form) })
      : await fetch(url);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
}
