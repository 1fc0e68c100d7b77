// The demo's world: the sandbox in this process (so the simulated people are sandbox users right
// here), and the bot as a child process started exactly as a user starts it, `bun bot.ts`, with
// its configuration in the environment. Ephemeral ports (never "in use"), a temp dir for the
// database, logs and the client's config, removed on exit.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TransportSeed } from "../lib/db.ts";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME } from "../sandbox/defaults.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/index.ts";
import { atExit, Child } from "./procs.ts";

export const ROOT = resolve(import.meta.dir, "..");
export const BOT_USERNAME = SANDBOX_BOT_USERNAME;

export interface Stack {
  sb: Sandbox;
  bot: Child;
  dir: string;
  dbPath: string;
  stop(): Promise<void>;
}

export function say(line: string): void {
  console.log(line);
}

/**
 * The environment of `bun bot.ts` on a sandbox that enforces no rate limit, its database and logs in
 * `dir`: it need not pace its replies as on Telegram (the broadcast keeps BROADCAST_RATE_PER_S).
 */
export function sandboxBotEnv(o: { token: string; botApiUrl: string; dir: string; transports?: TransportSeed[]; env?: Record<string, string> }): Record<string, string> {
  const env: Record<string, string> = {
    BOT_TOKEN: o.token,
    BOT_API_URL: o.botApiUrl,
    DB_PATH: join(o.dir, "bot.db"),
    LOG_DIR: join(o.dir, "logs"),
    SEND_RATE_PER_S: "1000",
    CHAT_RATE_PER_S: "1000",
    ...o.env,
  };
  if (o.transports) {
    env.TRANSPORTS_FILE = join(o.dir, "transports.json");
    writeFileSync(env.TRANSPORTS_FILE, JSON.stringify(o.transports, null, 2));
  }
  return env;
}

export async function startStack(o: { env: Record<string, string>; transports?: TransportSeed[]; showBotLine?: (line: string) => boolean; sandbox?: SandboxOptions }): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-demo-"));
  atExit(() => rmSync(dir, { recursive: true, force: true }));
  let sb: Sandbox;
  try {
    sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }], ...o.sandbox });
  } catch (e) {
    throw new Error(`cannot start the sandbox on loopback: ${(e as Error).message}`);
  }
  say(`sandbox: Bot API ${sb.botApiUrl}, MTProto ${sb.mtprotoHost}:${sb.mtprotoPort} (ephemeral ports, loopback only)`);
  say(`web: ${sb.botApiUrl}/?watch=${SANDBOX_BOT_USERNAME} shows every chat live${process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform !== "linux" ? ": open it in your browser to watch the booking happen" : ""}`);
  const d = o.sandbox?.mtprotoDelay;
  if (d) say(`network: client ↔ Telegram round trip ${2 * d.delayMs} ms (the sandbox delays its MTProto door ${d.delayMs} ms each way)`);
  const env = sandboxBotEnv({ token: SANDBOX_BOT_TOKEN, botApiUrl: sb.botApiUrl, dir, transports: o.transports, env: o.env });
  const show = o.showBotLine ?? (() => true);
  const bot = new Child("bot", [process.execPath, join(ROOT, "bot.ts")], {
    cwd: dir,
    env,
    onLine: (line) => {
      if (show(line)) say(`  bot    | ${line}`);
    },
  });
  say(`bot: bun bot.ts (pid ${bot.pid}), database and logs in ${dir}`);
  try {
    await bot.waitFor(/is polling/, 20_000);
  } catch (e) {
    await bot.stop();
    await sb.stop();
    throw e;
  }
  return {
    sb,
    bot,
    dir,
    dbPath: env.DB_PATH!,
    async stop() {
      await bot.stop();
      await sb.stop();
    },
  };
}

/** `bun client.ts` with the given arguments, its output shown line by line. */
export function startClient(dir: string, args: string[]): Child {
  const c = new Child("client", [process.execPath, join(ROOT, "client.ts"), ...args], {
    cwd: dir,
    env: { LOG_DIR: join(dir, "client-logs") },
    onLine: (line) => say(`  client | ${line}`),
  });
  say(`client: bun client.ts ${args.join(" ")} (pid ${c.pid})`);
  return c;
}
