// bun run demo --scheduled [--crowd N]: the seed's production scenario in half a minute. Booking
// opens a few seconds ahead; `bun client.ts --mode scheduled` prepares, fires at the instant and
// races N simulated people (crowd.ts) for a handful of seats. The bot's database says who won.

import { Database } from "bun:sqlite";
import type { TransportSeed } from "../lib/db.ts";
import { systemTimeZone } from "../lib/timing.ts";
import type { SandboxOptions } from "../sandbox/index.ts";
import { compete, makeCrowd, type PersonResult } from "./crowd.ts";
import { writeClientConfig } from "./client-config.ts";
import { BOT_USERNAME, say, startClient, startStack } from "./stack.ts";

const PHONE = "+79990000001";
const CLIENT_NAME = "Анна";
const OPEN_AHEAD_MS = 10_000;
const SEATS: TransportSeed[] = [
  { from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30", seats: 2 },
  { from_city: "Челябинск", to_city: "Курган", departure: "11:45", seats: 1 },
  { from_city: "Челябинск", to_city: "Тюмень", departure: "13:10", seats: 2 },
];
const BOT_LINES = /is polling|booking_opened|Booking opened|broadcast_(start|done)| - (WARN|ERROR) - /;

/** "HH:MM:SS" (system zone) of the first whole second at least `aheadMs` from now, and that instant. */
function openingAhead(aheadMs: number): { text: string; at: number } {
  const at = Math.ceil((Date.now() + aheadMs) / 1000) * 1000;
  const d = new Date(at);
  const p = (x: number) => String(x).padStart(2, "0");
  return { text: `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`, at };
}

export async function demoScheduled(crowdSize: number, sandbox?: SandboxOptions, ui = "classic"): Promise<number> {
  const seats = SEATS.reduce((n, t) => n + t.seats, 0);
  const open = openingAhead(OPEN_AHEAD_MS);
  const race = await startStack({ env: { BOOKING_TIME: open.text, BOT_UI: ui }, transports: SEATS, showBotLine: (l) => BOT_LINES.test(l), sandbox });
  const { sb } = race;
  let clientCode = -1;
  try {
    const me = sb.world.userForPhone(PHONE, CLIENT_NAME);
    const crowd = makeCrowd(sb.world, BOT_USERNAME, crowdSize);
    // Everyone has talked to the bot before (it can only announce to people who have).
    await Promise.all(
      crowd.map(async (p) => {
        const r = p.human.waitFor((m) => m.text.length > 0);
        p.human.send("/start");
        await r;
      }),
    );
    say(`crowd: ${crowdSize} people, each reacting to the announcement after 0.5-3 s, then ~0.3-0.8 s per tap`);
    say(`seats: ${SEATS.map((t) => `${t.from_city} → ${t.to_city} ${t.departure} ×${t.seats}`).join(", ")} (${seats} in all)`);
    say(`booking opens at ${open.text} (${systemTimeZone()}), in ${((open.at - Date.now()) / 1000).toFixed(1)} s`);

    const config = writeClientConfig(race.dir, {
      sandboxUrl: sb.botApiUrl,
      botUsername: BOT_USERNAME,
      phone: PHONE,
      cities: [["Екатеринбург"], ["Курган"], ["Тюмень"]],
      targetTime: open.text,
      timezone: systemTimeZone(),
    });
    const client = startClient(race.dir, ["--mode", "scheduled", "--config", config]);
    const clientDone = client.exited.then((c) => (clientCode = c));
    await client.waitFor(/watching/i, 20_000);
    const people = Promise.all(crowd.map((p) => compete(p, OPEN_AHEAD_MS + 20_000)));

    const tick = setInterval(() => {
      // Before the opening the client prints its own countdown: one line each, not two.
      if (open.at - Date.now() > 0) return;
      say(`  … race: ${crowd.filter((p) => p.result).length}/${crowdSize} people done, client ${clientCode === -1 ? "running" : `exited ${clientCode}`}`);
    }, 1000);
    try {
      await Promise.race([Promise.all([people, clientDone]), Bun.sleep(OPEN_AHEAD_MS + 30_000)]);
    } finally {
      clearInterval(tick);
    }
    await race.bot.stop(); // closes the database cleanly before we read it
    report(race.dbPath, me.id, crowd.map((p) => p.result), seats, open.at);
    for (const p of crowd) p.human.close();
    return clientCode === 0 ? 0 : 1;
  } finally {
    await race.stop();
  }
}

function report(dbPath: string, clientId: number, results: (PersonResult | undefined)[], seats: number, openAt: number): void {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .query(
        `SELECT b.user_id, u.first_name, t.from_city, t.to_city, t.departure, b.created_at
         FROM bookings b JOIN transports t ON t.id = b.transport_id LEFT JOIN users u ON u.id = b.user_id
         WHERE t.day IS NOT NULL ORDER BY b.created_at`,
      )
      .all() as { user_id: number; first_name: string | null; from_city: string; to_city: string; departure: string; created_at: number }[];
    const opening = db.query("SELECT scheduled_at, opened_at FROM openings ORDER BY day DESC LIMIT 1").get() as { scheduled_at: number; opened_at: number } | null;
    const base = opening?.scheduled_at ?? openAt;
    say("");
    say(`Race result: ${rows.length}/${seats} seats sold${opening ? `; the bot opened booking ${(opening.opened_at - opening.scheduled_at).toFixed(1)} ms after BOOKING_TIME` : ""}`);
    say(`  #  ${"who".padEnd(22)}${"transport".padEnd(36)}booked at (from the opening)`);
    rows.forEach((r, i) => {
      const who = r.user_id === clientId ? `${r.first_name ?? "?"} (client.ts)` : (r.first_name ?? String(r.user_id));
      const off = r.created_at - base;
      const when = Math.abs(off) < 1000 ? `+${off.toFixed(1)} ms` : `+${(off / 1000).toFixed(2)} s`;
      say(`  ${String(i + 1).padStart(1)}  ${who.padEnd(22)}${`${r.from_city} → ${r.to_city} ${r.departure}`.padEnd(36)}${when}`);
    });
    const count = (k: PersonResult) => results.filter((x) => x === k).length;
    say(
      `crowd: ${count("booked")} booked, ${count("soldOut")} found their seat sold out, ${count("nothingLeft")} found nothing left` +
        (count("noAnnouncement") + count("noReply") + results.filter((x) => !x).length ? `, ${count("noAnnouncement") + count("noReply") + results.filter((x) => !x).length} unfinished` : ""),
    );
    const mine = rows.findIndex((r) => r.user_id === clientId);
    say(mine >= 0 ? `✓ our client got seat ${mine + 1} of ${seats}, ${(rows[mine]!.created_at - base).toFixed(1)} ms after the opening` : "✗ our client got no seat");
  } finally {
    db.close();
  }
}
