// The clients the benchmark drives through test bookings, behind one small interface: ours
// (lib/client/booker.ts, in this process) and the baseline (baseline-client.ts).

import { connectClient, type TelegramClient } from "../lib/gramjs.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { BaselineClient } from "./baseline-client.ts";

export interface BookingDone {
  booked: boolean;
  /** The client's own stage times, when it reports them. */
  own?: Record<string, number>;
}

export interface BenchClient {
  readonly name: string;
  readonly userId: number;
  /** Starts one booking; resolves once the client is watching for the announcement. */
  arm(): Promise<{ done: Promise<BookingDone> }>;
  close(): Promise<void>;
}

export const SANDBOX_API = { apiId: 1, apiHash: "sandbox", connectionRetries: 1, timeoutSec: 5 };

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
