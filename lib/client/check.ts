// --check: the seed's component check, one ✓/✗ line each, with a hint for every ✗. --inspect: the
// bot's latest messages as the flow reads them, the texts.* each matches and the button the client
// would press for `targets` (it presses nothing).

import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import { chooseTransport, findConfirmButton, initialState, labelSaysSoldOut, mentions, type MessageEvent } from "../flow.ts";
import type { Logger } from "../log.ts";
import { percentile } from "../percentile.ts";
import { ConfigError } from "../settings.ts";
import { formatCountdown, nextDailyInstant, nowMs, systemTimeZone } from "../timing.ts";
import { describeOffset, measureClockOffset } from "./clock-sync.ts";
import { loadClientConfig, type ClientConfig } from "./config.ts";
import { obtainSession, openClient, resolveBot } from "./connect.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { historyRequest } from "./history.ts";
import { messageFromBot } from "./updates.ts";

/** Returns the exit code: 0 all ✓, 1 some ✗, 2 bad config. Later checks that need an earlier one say "skipped". */
export async function runCheck(configPath: string, print: (line: string) => void, log: Logger): Promise<number> {
  let failed = false;
  const add = (ok: boolean, name: string, text: string, hint?: string) => {
    failed ||= !ok;
    print(`${ok ? "✓" : "✗"} ${name}: ${text}${hint ? `\n    hint: ${hint}` : ""}`);
  };
  // run() adds its own ✓ lines; a throw is the ✗ line, with the hint.
  const attempt = async <T>(name: string, hint: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (e) {
      add(false, name, (e as Error).message, hint);
      return undefined;
    }
  };
  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    add(false, "config", e.message, "fix the key named above; the default config.yaml shows every key");
    return 2;
  }
  const mode = cfg.usesSandbox ? `the sandbox at ${cfg.sandbox.url} (no Telegram credentials)` : "real Telegram";
  add(true, "config", `${configPath} is valid: ${cfg.targets.length} target(s), ${mode}`);

  const sessionHint = cfg.usesSandbox ? "start the sandbox (`bun run sandbox`, or `bun bot.ts` without BOT_TOKEN)" : "run `bun client.ts --login`";
  const session = await attempt("session", sessionHint, async () => {
    const s = await obtainSession(cfg);
    add(true, "session", s.describe);
    return s;
  });
  let tg: TelegramClient | undefined;
  if (!session) add(false, "connection", "skipped: no session");
  else {
    tg = await attempt("connection", "check the network (or that the sandbox is running) and performance.connection_timeout", async () => {
      const t0 = performance.now();
      const client = await openClient(cfg, session.session);
      add(true, "connection", `connected in ${(performance.now() - t0).toFixed(0)} ms`);
      return client;
    });
  }
  if (!tg) {
    for (const name of ["bot", "clock", "ping"]) add(false, name, "skipped: no connection");
    return 1;
  }
  try {
    await attempt("bot", "bot.username is the bot's username without @; is the bot created and running?", async () => {
      const peer = await resolveBot(tg, cfg.bot.username);
      add(true, "bot", `@${cfg.bot.username} resolved (id ${peer.userId.toString()})`);
    });
    await attempt("clock", "the connection may be unstable; try again", async () => {
      const o = await measureClockOffset(tg, 10);
      let when = "";
      if (cfg.booking.target_time) {
        const tz = cfg.booking.timezone ?? systemTimeZone();
        const serverNow = nowMs() + o.offsetMs;
        const at = nextDailyInstant(cfg.booking.target_time, serverNow, tz);
        when = `; ${cfg.booking.target_time} (${tz}) is in ${formatCountdown(at - serverNow)}`;
      }
      const offHint = Math.abs(o.offsetMs) > 1000 ? "the local clock is off by more than a second: scheduled mode corrects for it, but consider enabling NTP" : undefined;
      add(true, "clock", `server − local ${describeOffset(o)}${when}`, offHint);
      const rtts = o.samples.map((x) => x.rttMs);
      const median = percentile(rtts, 50);
      const worst = Math.max(...rtts);
      log.info("check_ping", { rtt_median_ms: Number(median.toFixed(2)), rtt_worst_ms: Number(worst.toFixed(2)), clock_offset_ms: Number(o.offsetMs.toFixed(2)) });
      const pingHint =
        median > 100
          ? "each of the booking's ~4 round trips (/start, menu, press, confirm) costs this much: a server closer to the DC (Telegram's DCs are in Amsterdam, Miami and Singapore) or a wired network wins races"
          : undefined;
      add(true, "ping", `round trip to the DC: median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms over ${rtts.length} MTProto pings`, pingHint);
    });
  } finally {
    await tg.destroy().catch(() => {});
  }
  return failed ? 1 : 0;
}

export async function runInspect(cfg: ClientConfig, sendStart: boolean, out: (line: string) => void): Promise<number> {
  const tg = await openClient(cfg, (await obtainSession(cfg)).session);
  try {
    const peer = await resolveBot(tg, cfg.bot.username);
    if (sendStart) {
      await tg.invoke(new Api.messages.SendMessage({ peer, message: "/start", randomId: generateRandomLong() }));
      out(`sent /start to @${cfg.bot.username}; reading the replies in a second`);
      await Bun.sleep(1000);
    }
    const res = await tg.invoke(historyRequest(peer, 10));
    const botId = peer.userId.toString();
    const messages = ("messages" in res ? res.messages : []).toReversed().map((m) => messageFromBot(m, botId, new Map(), 0)).filter((m) => m !== undefined);
    if (messages.length === 0) out(`no messages from @${cfg.bot.username} yet: try --inspect --start`);
    for (const m of messages) describeMessage(m, cfg, out);
    return 0;
  } finally {
    await tg.destroy().catch(() => {});
  }
}

const MESSAGE_KEYS = { announcement: "announcement", booked: "booked", soldOut: "sold_out", notOpen: "not_open", alreadyBooked: "already_booked" } as const;

function describeMessage(m: MessageEvent, cfg: ClientConfig, out: (line: string) => void): void {
  const { texts } = initialState({ targets: cfg.targets, texts: cfg.texts }).config;
  const matched = Object.entries(MESSAGE_KEYS).filter(([k]) => mentions(m.text.toLowerCase(), texts[k as keyof typeof MESSAGE_KEYS]));
  out(`\n#${m.id} ${m.text.split("\n").join(" / ")}`);
  out(`  matches: ${matched.length ? matched.map(([, key]) => `texts.${key}`).join(", ") : "no texts.* key"}`);
  for (const row of m.buttons) {
    const labels = row.map((b) => `[${b.text}]${labelSaysSoldOut(b.text, texts.soldOutButton) ? " (sold out: texts.sold_out_button)" : ""}`);
    out(`  ${row[0]?.reply ? "reply keyboard" : "inline"}: ${labels.join(" ")}`);
  }
  const choice = chooseTransport(m.buttons, cfg.targets, [], texts.soldOutButton);
  const confirm = findConfirmButton(m.buttons, texts.confirmButton);
  if (choice) out(`  would press: [${choice.button.text}] (priority ${choice.target.priority}: ${choice.target.cities.join(", ")})`);
  else if (confirm) out(`  would press: [${confirm.text}] (texts.confirm_button)`);
  else if (m.buttons.length) out("  would press: nothing here (no button mentions a target city or texts.confirm_button)");
}
