// The offset between the server's clock and ours, from MTProto message ids: the server stamps
// each message id with its unixtime (and a fraction). We ping a few times and keep the Pong with
// the smallest round trip, since half of it bounds the error.

import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { watchIncomingMsgIds } from "./gramjs/sender.ts";
import { nowMs, withTimeout } from "../timing.ts";

/** server clock − local clock, from one round trip */
type ClockSample = { offsetMs: number; rttMs: number };
/** The best sample (smallest round trip) and all of them. */
export type ClockOffset = ClockSample & { samples: ClockSample[] };

/** The server time (epoch ms) in an MTProto message id: unixtime · 2^32, the low half a fraction. */
export function msgIdToEpochMs(msgId: bigint): number {
  return (Number(msgId >> 32n) + Number(msgId & 0xffff_ffffn) / 2 ** 32) * 1000;
}

/** The server stamped its message between our send and our receive (epoch ms): assume the midpoint. */
export function offsetFromMsgId(serverMsgId: bigint, localSendMs: number, localRecvMs: number): ClockSample {
  if (localRecvMs < localSendMs) throw new RangeError("offsetFromMsgId: received before sent");
  return { offsetMs: msgIdToEpochMs(serverMsgId) - (localSendMs + localRecvMs) / 2, rttMs: localRecvMs - localSendMs };
}

export function bestOf(samples: ClockSample[]): ClockOffset {
  const best = samples.reduce((b, x) => (x.rttMs < b.rttMs ? x : b));
  return { ...best, samples };
}

export async function measureClockOffset(tg: TelegramClient, count = 5, timeoutMs = 5000): Promise<ClockOffset> {
  const pongs = new Map<string, { msgId: bigint; recvAt: number }>();
  const stop = watchIncomingMsgIds(tg, (obj, msgId, recvAt) => {
    if (obj instanceof Api.Pong) pongs.set(obj.pingId.toString(), { msgId, recvAt });
  });
  const samples: ClockSample[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const pingId = generateRandomLong();
      const sentAt = nowMs();
      await withTimeout(tg.invoke(new Api.Ping({ pingId })), timeoutMs, `clock sync: no pong within ${timeoutMs} ms`);
      const pong = pongs.get(pingId.toString());
      if (pong) samples.push(offsetFromMsgId(pong.msgId, sentAt, Math.max(sentAt, pong.recvAt)));
    }
  } finally {
    stop();
  }
  if (samples.length === 0) throw new Error("clock sync: no Pong carried a usable msg_id");
  return bestOf(samples);
}

/** "+3.2 ms (±0.4 ms, best of 5)" */
export function describeOffset(o: ClockOffset): string {
  const sign = o.offsetMs >= 0 ? "+" : "−";
  return `${sign}${Math.abs(o.offsetMs).toFixed(1)} ms (±${(o.rttMs / 2).toFixed(1)} ms, best of ${o.samples.length})`;
}
