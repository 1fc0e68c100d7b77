// Preparing (who am I, resolve the bot) survives a FLOOD_WAIT: retried within performance.max_retries
// and the time left before the opening, each retry reported in words. Against the sandbox's
// MTProto front with its FLOOD_WAIT option (1 request/s: the second lookup gets FLOOD_WAIT_1).

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { TelegramClient } from "telegram";
import { parseClientConfig } from "../../lib/client/config.ts";
import { prepareBooker, type Booker, type BookerOptions, type BookingNote } from "../../lib/client/booker.ts";
import { RetryGaveUp } from "../../lib/retry.ts";
import { prepare, type RunContext } from "../../lib/client/modes.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";
import { nullLogger } from "../../lib/log.ts";
import { nowMs } from "../../lib/timing.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { TEST_BOT } from "../helpers/bot-harness.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

// Each test has its own sandbox and client, closed by `await using`; the tests mostly wait out a
// FLOOD_WAIT, so they run concurrently.
function closes(cleanup: AsyncDisposableStack, o: { sb?: Sandbox; tg?: TelegramClient; booker?: Booker }): void {
  cleanup.defer(async () => {
    o.booker?.close();
    await o.tg?.destroy().catch(() => {});
    await o.sb?.stop();
  });
}

async function floodedClient(cleanup: AsyncDisposableStack, phone: string) {
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [TEST_BOT], floodWait: { requestsPerSecond: 1 } });
  closes(cleanup, { sb });
  const tg = await connectSandboxClient(sb.sessionFor(phone).session);
  closes(cleanup, { tg });
  return { sb, tg };
}

const options = (botUsername = TEST_BOT.username, notes: BookingNote[] = [], maxRetries = 3): BookerOptions => ({
  botUsername,
  flow: { targets: [{ cities: ["Челябинск"], priority: 1 }], maxRetries },
  onNote: (n) => notes.push(n),
  warmUp: false, // not what these tests are about; it has its own unit test
});

describe("Booker.prepare retries", () => {
  test.concurrent("a FLOOD_WAIT on resolving the bot is waited out and retried, and said in words", async () => {
    await using cleanup = new AsyncDisposableStack();
    const { tg } = await floodedClient(cleanup, "+79990007001");
    const notes: BookingNote[] = [];
    const t0 = performance.now();
    const booker = await prepareBooker(tg, options(undefined, notes));
    closes(cleanup, { booker });
    expect(booker.botId).toBeTruthy();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(900); // FLOOD_WAIT_1 honoured
    await Bun.sleep(0);
    expect(notes.map((n) => n.message)).toEqual([
      "FLOOD_WAIT: Telegram asks to wait 1 s before the next request (contacts.ResolveUsername); retry 1 of 3 in 1 s",
    ]);
    expect(notes[0]).toMatchObject({ level: "warn", kind: "flood" });
  }, 15_000);

  test.concurrent("max_retries 0: fails at once with the reason and the setting", async () => {
    await using cleanup = new AsyncDisposableStack();
    const { tg } = await floodedClient(cleanup, "+79990007002");
    const e = await prepareBooker(tg, options(undefined, [], 0)).catch((x) => x);
    expect(e).toBeInstanceOf(RetryGaveUp);
    expect(e.message).toBe(
      "FLOOD_WAIT: Telegram asks to wait 1 s before the next request (contacts.ResolveUsername); gave up after 1 attempt",
    );
  }, 15_000);

  test.concurrent("a wait that would run past the opening is not started", async () => {
    await using cleanup = new AsyncDisposableStack();
    const { tg } = await floodedClient(cleanup, "+79990007003");
    const retries: BookingNote[] = [];
    const t0 = performance.now();
    const e = await prepareBooker(tg, options(undefined, retries), { deadline: nowMs() + 400 }).catch((x) => x);
    expect(e).toBeInstanceOf(RetryGaveUp);
    expect(e.message).toMatch(/^FLOOD_WAIT: Telegram asks to wait 1 s .*\(contacts\.ResolveUsername\); not retrying: the wait \(1000 ms\) would end past the deadline$/);
    expect(retries).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(900);
  }, 15_000);

  test.concurrent("a wrong bot username is not retried", async () => {
    await using cleanup = new AsyncDisposableStack();
    const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [TEST_BOT] });
    closes(cleanup, { sb });
    const tg = await connectSandboxClient(sb.sessionFor("+79990007004").session);
    closes(cleanup, { tg });
    const retries: BookingNote[] = [];
    await expect(prepareBooker(tg, options("no_such_bot", retries))).rejects.toThrow("no bot @no_such_bot on this Telegram server");
    expect(retries).toEqual([]);
  }, 15_000);
});

describe("modes.prepare (what --mode scheduled runs at -60 s)", () => {
  test.concurrent("prints each retry and gets ready", async () => {
    await using cleanup = new AsyncDisposableStack();
    const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [TEST_BOT], floodWait: { requestsPerSecond: 1 } });
    closes(cleanup, { sb });
    const cfg = parseClientConfig(
      `bot:\n  username: ${TEST_BOT.username}\ntargets:\n  - cities: [Челябинск]\n    priority: 1\nperformance:\n  max_retries: 2\nsandbox:\n  url: "${sb.botApiUrl}"\n`,
      "config.yaml",
    );
    const lines: string[] = [];
    const ctx: RunContext = { cfg, log: nullLogger, out: (l) => lines.push(l), signal: new AbortController().signal, res: {} };
    cleanup.defer(async () => await ctx.res.tg?.destroy().catch(() => {})); // prepare sets it
    const booker = await prepare(ctx, nowMs() + 30_000);
    closes(cleanup, { booker });
    await Bun.sleep(0);
    expect(lines).toContainEqual("warning: FLOOD_WAIT: Telegram asks to wait 1 s before the next request (contacts.ResolveUsername); retry 1 of 2 in 1 s");
    expect(lines.at(-1)).toMatch(/^connected to sandbox at .*; @test_booking_bot resolved/);
  }, 15_000);
});
