// `bun run demo`: sandbox, bun bot.ts and bun client.ts --mode immediate; exits 0 on a booking
// and leaves no child process or temp dir behind.

import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const ROOT = resolve(import.meta.dir, "../..");

// Two independent `bun demo/main.ts` runs: concurrent.
test.concurrent("bun run demo books and exits 0", async () => {
  const p = Bun.spawn([process.execPath, "demo/main.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) console.error(out, err);
  expect(code).toBe(0);
  expect(out).toContain("Общее время");
  expect(out).toContain("🧪 Результат теста");
  expect(out).toContain("✓ booked");
  const pids = [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(2);
  for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  const dir = /database and logs in (\S+)/.exec(out)?.[1];
  expect(dir && existsSync(dir)).toBe(false);
}, 60_000);

test.concurrent("bun run demo rejects an unknown argument with exit 2", async () => {
  const p = Bun.spawn([process.execPath, "demo/main.ts", "--nope"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(2);
  expect(err).toContain("usage: bun run demo");
});
