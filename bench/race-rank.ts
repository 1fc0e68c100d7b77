// A race as it happens on Telegram: `bun bot.ts` opens booking at T and announces it at its paced
// rate (BROADCAST_RATE_PER_S, 30/s as on Telegram) to thousands of users, in user order; a crowd
// of people (demo/crowd.ts: they read the announcement after 0.5-3 s and tap in 0.3-0.8 s) and a
// few polling userbots (the baseline) race for a few seats over the simulated network; our
// client races as `bun client.ts --mode scheduled` and as `bun client.ts --mode immediate` (two
// users, both in every race, both in the middle of the broadcast order: they compete only for
// seats the other could also take). The bot's database says who booked when.

import { compete, makeCrowd, type Person } from "../demo/crowd.ts";
import { Human } from "../sandbox/human.ts";
import type { World } from "../sandbox/world.ts";
import { baselineClient, type BenchClient } from "./clients.ts";
import { NET_BOT, startNetStack } from "./net-stack.ts";
import { progress, round, sleep, until } from "./stats.ts";

export interface RaceRun {
  /** Seat rank (1 = first booking) or null: no seat. */
  scheduled: number | null;
  immediate: number | null;
  /** Booking time after the opening (the bot's BOOKING_TIME), ms; null: no seat. */
  scheduled_ms: number | null;
  immediate_ms: number | null;
  /** The last seat sold, after the opening, ms. */
  sold_out_ms: number | null;
  /** When the paced broadcast reaches our users (their place in it / the rate), ms after the opening. */
  our_announcement_ms: number;
}

export interface RaceRankResult {
  scheduled: (number | null)[];
  immediate: (number | null)[];
  races: RaceRun[];
  users: number;
  pollers: number;
  seats: number;
  rtt_ms: number;
  bot_api_delay_ms: number;
  broadcast_per_s: number;
}

const ROUTE = { from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30" };
/** Time to start the bot and our clients and introduce everyone: more for more users. */
const openAheadMs = (users: number) => 8000 + 3 * users;

const hhmmssUtc = (ms: number) => new Date(ms).toISOString().slice(11, 19);

async function introduce(world: World, userId: number): Promise<Human> {
  const h = new Human(world, userId, NET_BOT.username);
  const reply = h.waitFor((m) => m.text.length > 0, { timeoutMs: 30_000 });
  h.send("/start");
  await reply;
  return h;
}

async function race(o: { users: number; pollers: number; seats: number; rttMs: number; jitterMs: number; botApiDelayMs: number; broadcastPerS: number }): Promise<RaceRun> {
  const ahead = openAheadMs(o.users);
  const open = Math.ceil((Date.now() + ahead) / 1000) * 1000;
  const stack = await startNetStack({
    sandbox: { mtprotoDelay: { delayMs: o.rttMs / 2, jitterMs: o.jitterMs / 2 }, botApiDelay: { delayMs: o.botApiDelayMs } },
    env: { BOOKING_TIME: hhmmssUtc(open), TZ: "UTC", TEST_MODE_ENABLED: "false", BROADCAST_RATE_PER_S: String(o.broadcastPerS) },
    transports: [{ ...ROUTE, seats: o.seats }],
  });
  const world = stack.sb.world;
  const pollers: BenchClient[] = [];
  const humans: Human[] = [];
  let crowd: Person[] = [];
  try {
    // User ids are the broadcast order: half of the others, our two users, the rest. The polling
    // userbots are spread through it.
    const half = Math.floor(o.users / 2);
    const pollerSlots = new Set(Array.from({ length: o.pollers }, (_, i) => Math.floor(((i + 0.5) * o.users) / Math.max(1, o.pollers))));
    const pollerPhones: string[] = [];
    const others: number[] = [];
    const ours = { scheduled: 0, immediate: 0 };
    for (let i = 0; i < o.users; i++) {
      if (i === half) {
        ours.scheduled = world.userForPhone("+79993000001").id;
        ours.immediate = world.userForPhone("+79993000002").id;
      }
      if (pollerSlots.has(i)) {
        const phone = `+7999301${String(i).padStart(4, "0")}`;
        pollerPhones.push(phone);
        others.push(world.userForPhone(phone).id);
      } else {
        const [p] = makeCrowd(world, NET_BOT.username, 1);
        crowd.push(p!);
        others.push(p!.human.userId);
      }
    }
    const place = half + 2;

    const clientConfig = { cities: [[ROUTE.to_city]], targetTime: hhmmssUtc(open), timezone: "UTC" };
    const scheduled = stack.client("+79993000001", ["--mode", "scheduled"], clientConfig);
    const immediate = stack.client("+79993000002", ["--mode", "immediate"], clientConfig);
    // Everyone has talked to the bot before (it announces only to people who have).
    for (const id of [ours.scheduled, ours.immediate]) humans.push(await introduce(world, id));
    await Promise.all(others.map((id) => introduce(world, id).then((h) => h.close())));
    progress(`race: ${others.length + 2} users know the bot, ${((open - Date.now()) / 1000).toFixed(1)} s before the opening`);
    for (const phone of pollerPhones) pollers.push(await baselineClient(stack.sb, phone, NET_BOT.username, [ROUTE.to_city]));
    progress(`race: pollers connected, ${((open - Date.now()) / 1000).toFixed(1)} s before the opening`);
    await Promise.all([scheduled.waitFor(/^watching/, ahead), immediate.waitFor(/^watching/, ahead)]);
    progress(`race: clients watching, ${((open - Date.now()) / 1000).toFixed(1)} s before the opening`);
    for (const p of pollers) (await p.arm()).done.catch(() => {});
    progress(`race: our clients and ${pollers.length} polling userbots are watching, ${((open - Date.now()) / 1000).toFixed(1)} s before the opening`);
    if (Date.now() > open - 500) throw new Error(`the race was not ready ${ahead} ms ahead: the machine is too busy`);
    for (const p of crowd) void compete(p, 60_000).catch(() => {});

    // The race is over when every seat is sold and both our clients are done or out of it.
    const sold = () => (stack.db.query("SELECT COUNT(*) AS n FROM bookings b JOIN transports t ON t.id = b.transport_id WHERE t.day IS NOT NULL").get() as { n: number }).n;
    const ourAnnouncementMs = (place / o.broadcastPerS) * 1000;
    await until(
      () => (sold() >= o.seats && (immediate.proc.exitCode !== null || Date.now() > open + 3000)) || Date.now() > open + 30_000,
      40_000,
      "the race to end",
    );
    await until(() => scheduled.proc.exitCode !== null || Date.now() > open + 15_000, 20_000, "the scheduled client to finish");

    const rows = stack.db
      .query("SELECT b.user_id, b.created_at FROM bookings b JOIN transports t ON t.id = b.transport_id WHERE t.day IS NOT NULL ORDER BY b.created_at")
      .all() as { user_id: number; created_at: number }[];
    const opening = stack.db.query("SELECT scheduled_at FROM openings ORDER BY day DESC LIMIT 1").get() as { scheduled_at: number } | null;
    const base = opening?.scheduled_at ?? open;
    const rank = (id: number) => {
      const i = rows.findIndex((r) => r.user_id === id);
      return i < 0 ? { rank: null, ms: null } : { rank: i + 1, ms: round(rows[i]!.created_at - base, 1) };
    };
    const s = rank(ours.scheduled);
    const im = rank(ours.immediate);
    return {
      scheduled: s.rank,
      immediate: im.rank,
      scheduled_ms: s.ms,
      immediate_ms: im.ms,
      sold_out_ms: rows.length >= o.seats ? round(rows[o.seats - 1]!.created_at - base, 1) : null,
      our_announcement_ms: round(ourAnnouncementMs, 0),
    };
  } finally {
    for (const p of crowd) p.human.close();
    for (const h of humans) h.close();
    for (const p of pollers) await p.close();
    await stack.close();
  }
}

export async function benchRaceRank(o: { races: number; users: number; pollers: number; seats: number; rttMs: number; jitterMs: number }): Promise<RaceRankResult> {
  const settings = { ...o, botApiDelayMs: 20, broadcastPerS: 30 };
  const races: RaceRun[] = [];
  for (let i = 0; i < o.races; i++) {
    progress(`race ranks: race ${i + 1}/${o.races} (${o.users} users, ${o.pollers} polling userbots, ${o.seats} seats, rtt ${o.rttMs} ms)`);
    races.push(await race(settings));
    await sleep(0);
  }
  return {
    scheduled: races.map((r) => r.scheduled),
    immediate: races.map((r) => r.immediate),
    races,
    users: o.users,
    pollers: o.pollers,
    seats: o.seats,
    rtt_ms: o.rttMs,
    bot_api_delay_ms: settings.botApiDelayMs,
    broadcast_per_s: settings.broadcastPerS,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchRaceRank({ races: Number(process.argv[2] ?? 1), users: Number(process.argv[3] ?? 300), pollers: 3, seats: 3, rttMs: 60, jitterMs: 10 }), null, 1));
  process.exit(0); // the crowd's pending waits would keep the process alive for a minute
}
