// --check: the seed's component check (its test_client.py). One line per component, ✓ or ✗,
// with a hint for every ✗; later checks that need an earlier one are reported as skipped.

import "./gramjs/prelude.ts";
import type { TelegramClient } from "telegram";
import { ConfigError } from "../settings.ts";
import { loadClientConfig, type ClientConfig } from "./config.ts";
import { percentile } from "../percentile.ts";
import { formatCountdown, formatDailyTime, nextDailyInstant, nowMs, systemTimeZone } from "../timing.ts";
import { describeOffset, measureClockOffset } from "./clock-sync.ts";
import { obtainSession, openClient, resolveBot, type SessionInfo } from "./connect.ts";

export interface CheckLine {
  ok: boolean;
  name: string;
  text: string;
  hint?: string;
}

export function formatCheck(l: CheckLine): string {
  return `${l.ok ? "✓" : "✗"} ${l.name}: ${l.text}${l.hint ? `\n    hint: ${l.hint}` : ""}`;
}

/** Pings for the clock and the round trip; a median above HIGH_PING_MS gets a hint. */
const PINGS = 10;
const HIGH_PING_MS = 100;

/**
 * Runs every check, printing each line as it completes; `onPing` gets the round trip (for the log).
 * Returns the exit code: 0 all ✓, 1 some ✗, 2 bad config.
 */
export async function runCheck(configPath: string, print: (line: string) => void, onPing?: (ping: { median: number; worst: number }, offsetMs: number) => void): Promise<number> {
  const lines: CheckLine[] = [];
  const add = (l: CheckLine) => {
    lines.push(l);
    print(formatCheck(l));
  };
  let cfg: ClientConfig;
  try {
    cfg = loadClientConfig(configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    add({ ok: false, name: "config", text: e.message, hint: "fix the key named above; the default config.yaml shows every key" });
    return 2;
  }
  const mode = cfg.usesSandbox ? `the sandbox at ${cfg.sandbox.url} (no Telegram credentials)` : "real Telegram";
  add({ ok: true, name: "config", text: `${configPath} is valid: ${cfg.targets.length} target(s), ${mode}` });

  let session: SessionInfo | undefined;
  try {
    session = await obtainSession(cfg);
    const text = !cfg.usesSandbox
      ? `${cfg.session.path} present`
      : session.saved
        ? `${cfg.session.path} (from --login) for sandbox user ${session.userId}`
        : `fresh sandbox session for user ${session.userId}${session.staleSaved ? ` (${cfg.session.path} is from an earlier sandbox run: not used; \`--login\` again to rehearse the login)` : ""}`;
    add({ ok: true, name: "session", text });
  } catch (e) {
    add({
      ok: false,
      name: "session",
      text: (e as Error).message,
      hint: cfg.usesSandbox ? "start the sandbox (`bun run sandbox`, or `bun bot.ts` without BOT_TOKEN)" : "run `bun client.ts --login`",
    });
  }

  let tg: TelegramClient | undefined;
  try {
    if (session) {
      const t0 = performance.now();
      try {
        tg = await openClient(cfg, session.session);
        add({ ok: true, name: "connection", text: `connected in ${(performance.now() - t0).toFixed(0)} ms` });
      } catch (e) {
        add({ ok: false, name: "connection", text: (e as Error).message, hint: "check the network (or that the sandbox is running) and performance.connection_timeout" });
      }
    } else {
      add({ ok: false, name: "connection", text: "skipped: no session" });
    }

    if (tg) {
      try {
        const peer = await resolveBot(tg, cfg.bot.username);
        add({ ok: true, name: "bot", text: `@${cfg.bot.username} resolved (id ${peer.userId.toString()})` });
      } catch (e) {
        add({ ok: false, name: "bot", text: (e as Error).message, hint: "bot.username is the bot's username without @; is the bot created and running?" });
      }
      try {
        const o = await measureClockOffset(tg, PINGS);
        let when = "";
        if (cfg.booking.targetTime) {
          const tz = cfg.booking.timezone ?? systemTimeZone();
          const serverNow = nowMs() + o.offsetMs;
          const at = nextDailyInstant(cfg.booking.targetTime, serverNow, tz);
          when = `; ${formatDailyTime(cfg.booking.targetTime)} (${tz}) is in ${formatCountdown(at - serverNow)}`;
        }
        const big = Math.abs(o.offsetMs) > 1000;
        add({
          ok: true,
          name: "clock",
          text: `server − local ${describeOffset(o)}${when}`,
          ...(big ? { hint: "the local clock is off by more than a second: scheduled mode corrects for it, but consider enabling NTP" } : {}),
        });
        const rtts = o.samples.map((x) => x.rttMs);
        const ping = { median: percentile(rtts, 50), worst: Math.max(...rtts) };
        onPing?.(ping, o.offsetMs);
        add({
          ok: true,
          name: "ping",
          text: `round trip to the DC: median ${ping.median.toFixed(1)} ms, worst ${ping.worst.toFixed(1)} ms over ${rtts.length} MTProto pings`,
          ...(ping.median > HIGH_PING_MS
            ? { hint: `each of the booking's ~4 round trips (/start, menu, press, confirm) costs this much: a server closer to the DC (Telegram's DCs are in Amsterdam, Miami and Singapore) or a wired network wins races` }
            : {}),
        });
      } catch (e) {
        add({ ok: false, name: "clock", text: (e as Error).message, hint: "the connection may be unstable; try again" });
      }
    } else {
      for (const name of ["bot", "clock", "ping"]) add({ ok: false, name, text: "skipped: no connection" });
    }
  } finally {
    await tg?.destroy().catch(() => {});
  }
  return lines.every((l) => l.ok) ? 0 : 1;
}
