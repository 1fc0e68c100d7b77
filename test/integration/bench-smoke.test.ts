// `bun run bench --smoke --json` (tiny sizes): one JSON object on stdout with every figure the
// benchmark promises, the race and the broadcasts correct. The figures themselves are not judged.

import { expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const ROOT = resolve(import.meta.dir, "../..");

test("bench --smoke --json prints one JSON object with every figure", async () => {
  const p = Bun.spawn([process.execPath, "bench/main.ts", "--smoke", "--json"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) console.error(err);
  expect(code).toBe(0);
  expect(out.trim().split("\n")).toHaveLength(1);
  const r = JSON.parse(out);
  const pct = expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
  expect(r.client_reaction_ms).toEqual(expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) }));
  for (const s of ["sms", "menu", "confirm"]) expect(r.client_reaction_ms.stages[s]).toEqual(pct);
  expect(r.client_reaction_ms.n).toBe(9); // 3 bookings × 3 stages
  expect(r.e2e_ms).toEqual(expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), bookings: 3, failed: 0 }));
  expect(r.baseline_e2e_ms).toEqual(expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), bookings: 3, failed: 0 }));
  expect(r.speedup).toBeGreaterThan(0);
  expect(r.scheduler_lateness_ms).toEqual(expect.objectContaining({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number), early: 0 }));
  expect(r.race).toEqual(expect.objectContaining({ users: 100, seats: 5, sold: 5, overbooked: 0, unanswered: 0 }));
  expect(r.race.bookings_per_s).toBeGreaterThan(0);
  expect(r.race_limited).toEqual(expect.objectContaining({ users: 10, seats: 5, answered: 10, untold: 0, overbooked: 0, in_order: true }));
  expect(r.race.bot_response_p99_ms).toBeGreaterThan(0);
  expect(r.broadcast.messages_per_s).toBeGreaterThan(0);
  expect(r.broadcast.delivered_once).toBe(r.broadcast.users);
  expect(r.broadcast.rate_limited).toEqual(expect.objectContaining({ unhandled_429: 0, missing: 0, duplicates: 0, delivered_once: 300 }));
  expect(r.rss_mb.bot).toBeGreaterThan(10);
  expect(r.rss_mb.client).toBeGreaterThan(10);
  expect(r.client_reaction_floor_ms).toEqual(pct);
  expect(r.errors).toBeUndefined();
  // the table goes to stderr with --json
  expect(err).toContain("speedup");
}, 90_000);
