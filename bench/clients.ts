// The clients the benchmark drives through test bookings, behind one small interface: ours
// (lib/client/booker.ts, in this process) and the baseline (baseline-client.ts).

import { connectClient, type TelegramClient } from "../lib/client/gramjs/connect.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { SANDBOX_API_CREDENTIALS } from "../sandbox/defaults.ts";
import { prepareBooker } from "../lib/client/booker.ts";
import { BaselineClient } from "./baseline-client.ts";

export interface BookingDone {
  booked: boolean;
  /** The client's own stage times, when it reports them. */
  own?: Record<string, number>;
  /** The client's own reaction times (its handler: update in → request handed to gramjs), ms. */
  ownReactions?: number[];
}

export interface BenchClient {
  readonly name: string;
  readonly userId: number;
  /** Starts one booking; resolves once the client is watching for the announcement. */
  arm(): Promise<{ done: Promise<BookingDone> }>;
  close(): Promise<void>;
}

export const SANDBOX_API = { ...SANDBOX_API_CREDENTIALS, connectionRetries: 1, timeoutSec: 5 };

export async function connectAs(sb: Sandbox, phone: string): Promise<{ userId: number; tg: TelegramClient }> {
  const { userId, session } = sb.sessionFor(phone);
  return { userId, tg: await connectClient(session, SANDBOX_API) };
}

export async function baselineClient(sb: Sandbox, phone: string, bot: string, cities: string[]): Promise<BenchClient> {
  const { userId, tg } = await connectAs(sb, phone);
  const b = new BaselineClient(tg, bot, cities);
  return {
    name: "baseline",
    userId,
    async arm() {
      await b.prepare();
      return { done: b.book(15_000).then((o) => ({ booked: o.result === "booked" })) };
    },
    async close() {
      await tg.destroy().catch(() => {});
    },
  };
}

/** Our client, in this process: lib/client/booker.ts on its own gramjs connection. */
export async function ourClient(sb: Sandbox, phone: string, bot: string, cities: string[]): Promise<BenchClient> {
  const { userId, tg } = await connectAs(sb, phone);
  const booker = await prepareBooker(tg, { botUsername: bot, flow: { targets: [{ cities, priority: 1 }] } });
  return {
    name: "ours",
    userId,
    arm() {
      return new Promise((resolveArmed, reject) => {
        const done = booker.book({ timeoutMs: 15_000, pollWindowMs: false, onWatching: () => resolveArmed({ done: mapped }) });
        const mapped = done.then((o): BookingDone => {
          const own: Record<string, number> = {};
          for (const [k, v] of Object.entries(o.stats)) if (typeof v === "number") own[k] = v;
          return { booked: o.ok, own, ownReactions: o.reactions.filter((r) => r.cause === "message").map((r) => r.ms) };
        });
        done.catch(reject);
      });
    },
    async close() {
      booker.close();
      await tg.destroy().catch(() => {});
    },
  };
}
