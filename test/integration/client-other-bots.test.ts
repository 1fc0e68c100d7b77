// The client against third-party-like bots (test/helpers/fixture-bots.ts) through the sandbox:
// each UI shape, started by the announcement (immediate) and by the trigger (scheduled), with the
// first priority sold out. The booker runs in-process for speed; one run is the real client.ts.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TelegramClient } from "telegram";
import { prepareBooker, type Booker } from "../../lib/client/booker.ts";
import { nowMs } from "../../lib/timing.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { FIXTURE_TEXTS, FIXTURE_TEXTS_FLOW, FIXTURE_UIS, startFixtureBot, type FixtureUi, type Route } from "../helpers/fixture-bots.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const BOTS = FIXTURE_UIS.map((ui, i) => ({ ui, token: `72000000${i + 10}:fixture-${ui}`, username: `fixture_${ui}_bot` }));
/** A second reply-keyboard bot, so that --inspect and the scheduled run (both `bun client.ts`) run side by side. */
const INSPECT_BOT = { token: "7200000099:fixture-inspect", username: "fixture_inspect_bot" };
const TARGETS = [
  { cities: ["Челябинск"], priority: 1 },
  { cities: ["Екатеринбург"], priority: 2 },
];
let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [...BOTS.map(({ token, username }) => ({ token, username })), INSPECT_BOT] });
});
afterAll(() => sb.stop());

/** Челябинск is sold out; `stale`: its label does not say so (only the press tells). */
const routes = (stale: boolean): Route[] => [
  { name: "Челябинск 08:00", seats: 0, staleLabel: stale },
  { name: "Екатеринбург 09:00", seats: 3 },
  { name: "Курган 10:00", seats: 3 },
];

let phones = 0;
async function setup(ui: FixtureUi, stale: boolean) {
  const spec = BOTS.find((b) => b.ui === ui)!;
  const fixture = await startFixtureBot(sb, spec.token, ui, routes(stale));
  const { userId, session } = sb.sessionFor(`+7999300${String(++phones).padStart(4, "0")}`);
  const tg: TelegramClient = await connectSandboxClient(session);
  const booker: Booker = await prepareBooker(tg, {
    botUsername: spec.username,
    flow: { targets: TARGETS, texts: FIXTURE_TEXTS_FLOW, maxRetries: 2 },
    stageTimeoutMs: 3000,
    warmUp: false,
  });
  await booker.sendStart(); // the chat exists; the bot says it opens later
  const botId = sb.world.botByUsername(spec.username)!.id;
  for (let i = 0; i < 400 && !sb.world.history(userId, botId).some((m) => m.outgoingFromBot); i++) await Bun.sleep(5);
  const close = async () => {
    booker.close();
    await tg.destroy().catch(() => {});
    await fixture.stop();
  };
  return { fixture, booker, userId, close };
}

for (const ui of FIXTURE_UIS) {
  describe(`a ${ui} bot`, () => {
    test("immediate: the announcement starts it; the sold-out first priority costs no timeout", async () => {
      const { fixture, booker, userId, close } = await setup(ui, true);
      try {
        const watching = Promise.withResolvers<void>();
        const booking = booker.book({ timeoutMs: 10_000, onWatching: watching.resolve });
        await watching.promise;
        fixture.open = true;
        await fixture.announce(userId);
        const o = await booking;
        expect(o.failure).toBeUndefined();
        expect(o.ok).toBe(true);
        expect(fixture.bookings).toEqual([{ userId, route: "Екатеринбург 09:00" }]);
        expect(o.notes.some((n) => n.message.includes("no reply"))).toBe(false);
        expect(o.result!.attempts).toBe(2);
      } finally {
        await close();
      }
    }, 20_000);

    test("scheduled: the trigger starts it; a label that says sold out is never pressed", async () => {
      const { fixture, booker, userId, close } = await setup(ui, false);
      try {
        fixture.open = true;
        const o = await booker.book({ trigger: nowMs() + 30, pollWindowMs: false });
        expect(o.failure).toBeUndefined();
        expect(o.ok).toBe(true);
        expect(o.origin).toBe("trigger");
        expect(fixture.bookings).toEqual([{ userId, route: "Екатеринбург 09:00" }]);
        expect(o.result!.attempts).toBe(1);
      } finally {
        await close();
      }
    }, 20_000);
  });
}

function writeFixtureConfig(dir: string, username: string, phone: string, extra = ""): string {
  const config = join(dir, "client.yaml");
  writeFileSync(
    config,
    `telegram:\n  phone: "${phone}"\nbot:\n  username: ${username}\ntargets:\n  - cities: ["Челябинск"]\n    priority: 1\n  - cities: ["Екатеринбург"]\n    priority: 2\n` +
      `performance:\n  connection_timeout: 3\nnotifications:\n  telegram_notify: false\n  sound_alert: false\nsandbox:\n  url: "${sb.botApiUrl}"\n${FIXTURE_TEXTS}${extra}`,
  );
  return config;
}

async function runClient(args: string[], dir: string): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "..", "..", "client.ts"), ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { ...process.env, LOG_DIR: join(dir, "logs") } });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, out, err };
}

describe("bun client.ts --inspect", () => {
  test.concurrent("shows the reply-keyboard menu as the client reads it and what it would press, pressing nothing", async () => {
    const spec = INSPECT_BOT;
    const fixture = await startFixtureBot(sb, spec.token, "reply", routes(false));
    const dir = mkdtempSync(join(tmpdir(), "aprel-fixture-"));
    try {
      fixture.open = true;
      const r = await runClient(["--inspect", "--start", "--config", writeFixtureConfig(dir, spec.username, "+79993008888")], dir);
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: "" });
      expect(r.out).toContain("sent /start");
      expect(r.out).toContain("reply keyboard: [Челябинск 08:00 (нет мест)] (sold out: texts.sold_out_button)");
      expect(r.out).toContain("would press: [Екатеринбург 09:00 (3 мест)] (priority 2: Екатеринбург)");
      expect(fixture.bookings).toEqual([]);
    } finally {
      await fixture.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("bun client.ts --mode scheduled against the reply-keyboard bot", () => {
  test.concurrent("books the second priority and prints the stats", async () => {
    const spec = BOTS.find((b) => b.ui === "reply")!;
    const fixture = await startFixtureBot(sb, spec.token, "reply", routes(true));
    const dir = mkdtempSync(join(tmpdir(), "aprel-fixture-"));
    try {
      const phone = "+79993009999";
      const at = new Date(Math.floor((Date.now() + 4000) / 1000) * 1000);
      // Closed until the opening: the warm-up /start gets "opens at", the trigger's /start the menu.
      const opening = setTimeout(() => (fixture.open = true), at.getTime() - Date.now() - 300);
      const config = writeFixtureConfig(dir, spec.username, phone, `booking:\n  target_time: "${at.toTimeString().slice(0, 8)}"\n`);
      const { code, out, err } = await runClient(["--mode", "scheduled", "--config", config], dir);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      clearTimeout(opening);
      expect(out).toContain("started by: the scheduled trigger");
      expect(out).toContain("result: booked (2 transport presses)");
      expect(out).not.toContain("🧪");
      expect(fixture.bookings.map((b) => b.route)).toEqual(["Екатеринбург 09:00"]);
    } finally {
      await fixture.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
