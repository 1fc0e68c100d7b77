// The client against our own bot in each of its UIs (BOT_UI: classic, edit, reply, alert), the bot
// running as `bun bot.ts` on the sandbox, the client's booker in-process: the 🧪 rehearsal started by
// the announcement, with the first priority sold out between the menu and the press (the test takes
// the seat in the bot's database the moment the menu leaves the bot), and the opening started by
// the scheduled trigger.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TelegramClient } from "telegram";
import { prepareBooker } from "../../lib/client/booker.ts";
import { nowMs } from "../../lib/timing.ts";
import { sandboxBotEnv } from "../../demo/stack.ts";
import { BUTTON } from "../../lib/ui.ts";
import { SANDBOX_BOT_USERNAME } from "../../sandbox/defaults.ts";
import { Human } from "../../sandbox/human.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";

setDefaultTimeout(30_000);

const UIS = ["classic", "edit", "reply", "alert"] as const;
const ROUTES = [
  { from_city: "Челябинск", to_city: "Курган", departure: "08:00", seats: 1 },
  { from_city: "Тюмень", to_city: "Омск", departure: "09:00", seats: 3 },
  { from_city: "Москва", to_city: "Пермь", departure: "10:00", seats: 3 },
];
const TARGETS = [
  { cities: ["Курган"], priority: 1 },
  { cities: ["Омск"], priority: 2 },
];
const ROOT = join(import.meta.dir, "..", "..");
const OWN_VARS = /^(BOT_\w+|ADMIN_IDS|BOOKING_TIME|TEST_\w+|DB_PATH|LOG_\w+|TRANSPORTS_FILE|TZ|\w+_RATE_PER_S|SANDBOX_\w+)$/;

let sb: Sandbox;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aprel-bot-ui-"));
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: UIS.map((ui, i) => ({ token: `73000000${i + 10}:ui-${ui}`, username: `aprel_${ui}_bot` })) });
});
afterAll(async () => {
  await sb.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `bun bot.ts` with this UI; resolves once it polls. */
async function startBot(ui: (typeof UIS)[number], env: Record<string, string>) {
  const i = UIS.indexOf(ui);
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !OWN_VARS.test(k)) clean[k] = v;
  const home = mkdtempSync(join(dir, `${ui}-`));
  const botEnv = sandboxBotEnv({ token: `73000000${i + 10}:ui-${ui}`, botApiUrl: sb.botApiUrl, dir: home, transports: ROUTES, env: { BOT_UI: ui, ...env } });
  const db = botEnv.DB_PATH!;
  const proc = Bun.spawn(["bun", join(ROOT, "bot.ts")], {
    cwd: home,
    env: { ...clean, ...botEnv },
    stdout: "pipe",
    stderr: "inherit",
  });
  const bot = sb.world.botByUsername(`aprel_${ui}_bot`)!;
  // Read its output until it polls, then keep draining it (a closed pipe would stall its logging).
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  while (!/is polling/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`bun bot.ts (BOT_UI=${ui}) exited before polling:\n${out}`);
    out += decoder.decode(value);
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  return { proc, db, bot, stop: async () => (proc.kill("SIGTERM"), await proc.exited) };
}

let phones = 0;
async function client(username: string) {
  const { userId, session } = sb.sessionFor(`+7999400${String(++phones).padStart(4, "0")}`);
  const tg: TelegramClient = await connectSandboxClient(session);
  const booker = await prepareBooker(tg, { botUsername: username, flow: { targets: TARGETS, maxRetries: 2 }, stageTimeoutMs: 5000, warmUp: false });
  return { userId, tg, booker, close: async () => (booker.close(), await tg.destroy().catch(() => {})) };
}

// Each UI has its own bot (token, process, database) and client on the shared sandbox: the four
// rehearsals run concurrently.
for (const ui of UIS) {
  describe(`our bot, BOT_UI=${ui}`, () => {
    test.concurrent("🧪 rehearsal: the first priority sells out between the menu and the press; the client books the second at once", async () => {
      const bot = await startBot(ui, { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "300" });
      const c = await client(bot.bot.username);
      const db = new Database(bot.db);
      // The moment the bot's menu (with Курган on a button) leaves for the client, somebody else takes that seat.
      const unlisten = sb.world.listen(c.userId, (e) => {
        const m = e.type === "newMessage" || e.type === "editMessage" ? e.message : undefined;
        const markup = JSON.stringify(m?.replyMarkup ?? {});
        if (m?.outgoingFromBot && markup.includes("Курган")) db.run("UPDATE transports SET booked = seats WHERE to_city = 'Курган'");
      });
      try {
        const watching = Promise.withResolvers<void>();
        const booking = c.booker.book({ timeoutMs: 15_000, onWatching: watching.resolve });
        await watching.promise;
        const person = new Human(sb.world, c.userId, bot.bot.username);
        const menu = person.waitFor((m) => m.outgoingFromBot);
        person.send("/start");
        await menu;
        await person.press(BUTTON.test);
        const o = await booking;
        expect(o.failure).toBeUndefined();
        expect(o.ok).toBe(true);
        expect(o.result!.transport).toContain("Омск");
        expect(o.result!.attempts).toBe(2); // Курган was pressed and came back sold out
        expect(o.notes.some((n) => n.message.includes("no reply"))).toBe(false);
        const won = db.query<{ to_city: string }, []>("SELECT t.to_city FROM bookings b JOIN transports t ON t.id = b.transport_id").all();
        expect(won).toEqual([{ to_city: "Омск" }]);
      } finally {
        unlisten();
        db.close();
        await c.close();
        await bot.stop();
      }
    });
  });
}

test("the opening in every UI: the scheduled trigger's /start books the first priority", async () => {
  const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000);
  const open = at.toTimeString().slice(0, 8);
  const bots = await Promise.all(UIS.map((ui) => startBot(ui, { BOOKING_TIME: open, TEST_MODE_ENABLED: "false" })));
  const clients = await Promise.all(bots.map((b) => client(b.bot.username)));
  try {
    // the chat exists before the opening (as scheduled mode's warm-up /start makes sure)
    await Promise.all(clients.map((c) => c.booker.sendStart()));
    const outcomes = await Promise.all(clients.map((c) => c.booker.book({ trigger: at.getTime() - Date.now() + nowMs() + 5, pollWindowMs: false, timeoutMs: 15_000 })));
    for (const [i, o] of outcomes.entries()) {
      expect({ ui: UIS[i], failure: o.failure, ok: o.ok }).toEqual({ ui: UIS[i], failure: undefined, ok: true });
      expect(o.origin).toBe("trigger");
      expect(o.result!.transport).toContain("Курган");
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(bots.map((b) => b.stop()));
  }
});
