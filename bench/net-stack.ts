// The product over a simulated network, driven only through its stable surfaces: the sandbox in
// this process with delay proxies on its doors, `bun bot.ts` as a child process (its database
// read-only here), and `bun client.ts` child processes with their own config files.

import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeClientConfig, type SandboxClientConfig } from "../demo/client-config.ts";
import { Child } from "../demo/procs.ts";
import { sandboxBotEnv } from "../demo/stack.ts";
import { startSandbox, type Sandbox, type SandboxOptions } from "../sandbox/index.ts";
import { sleep, until } from "./stats.ts";

const ROOT = resolve(import.meta.dir, "..");
export const NET_BOT = { token: "7300000001:net-bench-bot", username: "net_bench_bot" };

export interface Transport {
  from_city: string;
  to_city: string;
  departure: string;
  seats: number;
}

export interface NetStack {
  sb: Sandbox;
  /** The bot's database, read-only (WAL: we see what it has committed). */
  db: Database;
  dir: string;
  botId: number;
  /** Starts `bun client.ts ARGS --config <its own config>` for this phone. */
  client(phone: string, args: string[], config: ClientSettings): Child;
  stopBot(): Promise<void>;
  close(): Promise<void>;
}

export async function startNetStack(o: { sandbox: SandboxOptions; env: Record<string, string>; transports?: Transport[] }): Promise<NetStack> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-net-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [NET_BOT], ...o.sandbox });
  const bot = sb.world.botByUsername(NET_BOT.username)!;
  const env = sandboxBotEnv({ token: NET_BOT.token, botApiUrl: sb.botApiUrl, dir, transports: o.transports, env: o.env });
  const dbPath = env.DB_PATH!;
  const botProc = new Child("bot", [process.execPath, join(ROOT, "bot.ts")], { cwd: dir, env });
  const clients: Child[] = [];
  let db: Database | undefined;
  const close = async () => {
    db?.close();
    await Promise.all([botProc, ...clients].map((c) => c.stop()));
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until(() => bot.waiters.size > 0 || botProc.proc.exitCode !== null, 20_000, "bun bot.ts to start polling");
    if (botProc.proc.exitCode !== null) throw new Error(`bun bot.ts exited with ${botProc.proc.exitCode}:\n${botProc.tail()}`);
    db = new Database(dbPath, { readonly: true });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    sb,
    db,
    dir,
    botId: bot.id,
    client(phone, args, config) {
      const c = spawnClient(sb, dir, phone, args, config);
      clients.push(c);
      return c;
    },
    async stopBot() {
      await botProc.stop();
    },
    close,
  };
}

type ClientSettings = Omit<SandboxClientConfig, "sandboxUrl" | "botUsername" | "phone">;

/** `bun client.ts ARGS --config FILE` for this phone, in its own directory under `dir`. */
export function spawnClient(sb: Sandbox, dir: string, phone: string, args: string[], config: ClientSettings): Child {
  const home = join(dir, `client-${phone.replace(/\D/g, "")}-${++clientCount}`);
  mkdirSync(home, { recursive: true });
  // The client asks the sandbox for its session at the undelayed control URL (setup, not measured).
  const sandboxUrl = sb.controlUrl.replace(/\/sandbox$/, "");
  const path = writeClientConfig(home, { sandboxUrl, botUsername: NET_BOT.username, phone, ...config });
  return new Child(`client ${phone}`, [process.execPath, join(ROOT, "client.ts"), ...args, "--config", path], { cwd: home, env: { LOG_DIR: join(home, "logs") } });
}
let clientCount = 0;

/** Waits for `c` to exit, at most `ms`; stops it after that. Its exit code, or null if it had to be stopped. */
export async function exitWithin(c: Child, ms: number): Promise<number | null> {
  const code = await Promise.race([c.exited, sleep(ms).then(() => null)]);
  if (code === null) await c.stop();
  return code;
}
