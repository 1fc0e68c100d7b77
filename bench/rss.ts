// Resident memory of the bot and of the client, each in its own child process (`bun bot.ts`,
// `bun client.ts`) against a sandbox in this process, read from /proc/<pid>/status: VmRSS (now)
// and VmHWM (the peak). The bot is measured after 10 000 users have each sent /start and got
// the menu; the client while it is connected and watching for the announcement.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startSandbox } from "../sandbox/index.ts";
import { BENCH_BOT } from "./rig.ts";
import { progress, round, sleep, until } from "./stats.ts";

export const ROOT = resolve(import.meta.dir, "..");

export interface Rss {
  rss_mb: number;
  peak_mb: number;
}

export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss_mb: round(kb("VmRSS") / 1024, 1), peak_mb: round(kb("VmHWM") / 1024, 1) };
}

export async function benchBotRss(users: number): Promise<Rss & { users: number }> {
  const dir = mkdtempSync(join(tmpdir(), "aprel-rss-"));
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BENCH_BOT] });
  const world = sb.world;
  const bot = world.botByUsername(BENCH_BOT.username)!;
  const child = Bun.spawn([process.execPath, "bot.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      BOT_TOKEN: BENCH_BOT.token,
      BOT_API_URL: sb.botApiUrl,
      DB_PATH: join(dir, "bot.db"),
      LOG_DIR: join(dir, "logs"),
      BOOKING_TIME: "00:00:00",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    await until(() => bot.waiters.size > 0 || child.exitCode !== null, 20_000, "bun bot.ts to start polling");
    if (child.exitCode !== null) throw new Error(`bun bot.ts exited with ${child.exitCode}`);
    let replies = 0;
    const stop = world.observe((e) => {
      if (e.type === "botMessage") replies++;
    });
    progress(`rss: ${users} users write /start to a bot in a child process (pid ${child.pid})`);
    const BATCH = 500;
    for (let i = 0; i < users; i += BATCH) {
      for (let j = i; j < Math.min(users, i + BATCH); j++) world.userSends(world.createUser({ first_name: `Member ${j}` }).id, bot.id, "/start");
      await until(() => replies >= Math.min(users, i + BATCH), 60_000, "the bot's menus");
    }
    stop();
    await sleep(200);
    return { ...readRss(child.pid), users };
  } finally {
    child.kill("SIGTERM");
    await Promise.race([child.exited, sleep(5000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
    await sb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await benchBotRss(Number(process.argv[2] ?? 10_000)));
