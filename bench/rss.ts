// Resident memory of the bot and of the client, each in its own child process (`bun bot.ts`,
// `bun client.ts`) against a sandbox in this process, read from /proc/<pid>/status: VmRSS (now)
// and VmHWM (the peak). The bot is measured after 10 000 users have each sent /start and got
// the menu; the client while it is connected and watching for the announcement.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Child } from "../demo/procs.ts";
import { writeClientConfig } from "../demo/client-config.ts";
import { BUTTON } from "../lib/ui.ts";
import { Human } from "../sandbox/human.ts";
import { startSandbox } from "../sandbox/index.ts";
import { BENCH_BOT, startRig } from "./rig.ts";
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
      SEND_RATE_PER_S: "1000", // memory is measured here, not Telegram's pacing
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


/**
 * `bun client.ts --mode immediate` in a child process: RSS once it prints its watching line, and
 * the peak (VmHWM, sampled until it exits) over one test booking against an in-process bot.
 */
export async function benchClientRss(): Promise<(Rss & { watching_mb: number }) | { error: string }> {
  if (!existsSync(join(ROOT, "client.ts"))) return { error: "client.ts is not in the repository yet" };
  const rig = await startRig({ env: { BOOKING_TIME: "23:59:59", TEST_SMS_DELAY_MS: "200" } });
  const dir = mkdtempSync(join(tmpdir(), "aprel-rss-client-"));
  const phone = "+79990000201";
  const human = new Human(rig.sb.world, rig.sb.world.userForPhone(phone).id, BENCH_BOT.username);
  let child: Child | undefined;
  try {
    const menu = human.waitFor((m) => m.text.length > 0);
    human.send("/start");
    await menu;
    const config = writeClientConfig(dir, { sandboxUrl: rig.sb.botApiUrl, botUsername: BENCH_BOT.username, phone, cities: [["Екатеринбург"]] });
    child = new Child("client", [process.execPath, join(ROOT, "client.ts"), "--mode", "immediate", "--config", config], { cwd: dir });
    await child.waitFor(/watching/i, 20_000);
    const watching = readRss(child.pid);
    let last = watching;
    let peak = Math.max(watching.rss_mb, watching.peak_mb);
    const sampler = setInterval(() => {
      try {
        const now = readRss(child!.pid);
        if (!Number.isFinite(now.rss_mb)) return; // exiting: the status has no memory lines any more
        last = now;
        // Linux updates VmHWM lazily: it can trail the current VmRSS, so keep the larger.
        peak = Math.max(peak, last.rss_mb, last.peak_mb);
      } catch {
        // exited between samples
      }
    }, 10);
    await human.press(BUTTON.test);
    const code = await Promise.race([child.exited, sleep(20_000).then(() => -1)]);
    clearInterval(sampler);
    if (code !== 0) return { error: `client.ts exited with ${code}:\n${child.tail()}` };
    return { watching_mb: watching.rss_mb, rss_mb: last.rss_mb, peak_mb: peak };
  } finally {
    human.close();
    await child?.stop();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  console.log(await benchClientRss());
  console.log(await benchBotRss(Number(process.argv[2] ?? 10_000)));
}
