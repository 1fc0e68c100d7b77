// The offset between the server's clock and ours, from MTProto message ids: the server stamps
// each message id with its unixtime (and a fraction). We ping a few times and keep the Pong with
// the smallest round trip (ClockOffset in lib/timing.ts).

import { Api, type TelegramClient } from "telegram";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { watchIncomingMsgIds } from "./gramjs/sender.ts";
import { ClockOffset, nowMs, withTimeout } from "../timing.ts";

export async function measureClockOffset(tg: TelegramClient, samples = 5, timeoutMs = 5000): Promise<ClockOffset> {
  const pongs = new Map<string, { msgId: bigint; recvAt: number }>();
  const stop = watchIncomingMsgIds(tg, (obj, msgId, recvAt) => {
    if (obj instanceof Api.Pong) pongs.set(obj.pingId.toString(), { msgId, recvAt });
  });
  const offset = new ClockOffset();
  try {
    for (let i = 0; i < samples; i++) {
      const pingId = generateRandomLong();
      const sentAt = nowMs();
      await withTimeout(tg.invoke(new Api.Ping({ pingId })), timeoutMs, `clock sync: no pong within ${timeoutMs} ms`);
      const pong = pongs.get(pingId.toString());
      if (pong) offset.addMsgId(pong.msgId, sentAt, Math.max(sentAt, pong.recvAt));
    }
  } finally {
    stop();
  }
  if (offset.count === 0) throw new Error("clock sync: no Pong carried a usable msg_id");
  return offset;
}

/** "+3.2 ms (±0.4 ms, best of 5)" */
export function describeOffset(o: ClockOffset): string {
  const b = o.best!;
  const sign = b.offsetMs >= 0 ? "+" : "−";
  return `${sign}${Math.abs(b.offsetMs).toFixed(1)} ms (±${(b.rttMs / 2).toFixed(1)} ms, best of ${o.count})`;
}
