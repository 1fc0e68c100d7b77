// The offset between the server's clock and ours, from MTProto message ids: the server stamps
// each message id with its unixtime (and a fraction). We ping a few times and read the msg_id of
// each Pong, keeping the sample with the smallest round trip (ClockOffset in lib/timing.ts).
//
// gramjs does not expose incoming msg_ids, so during the sync only we wrap the sender state's
// decryptMessageData (node_modules/telegram/network/MTProtoState.js), which returns each decrypted
// TLMessage { msgId, obj } to MTProtoSender._recvLoop.

import "../gramjs-prelude.ts";
import { Api, type TelegramClient } from "telegram";
import { generateRandomLong } from "../gramjs-fast-longs.ts";
import { ClockOffset, nowMs } from "../timing.ts";

interface TLMessageLike {
  msgId: { toString(): string };
  obj: unknown;
}
interface StateLike {
  decryptMessageData(body: Buffer): Promise<TLMessageLike>;
}

export interface ClockSyncOptions {
  samples?: number;
  /** per ping */
  timeoutMs?: number;
}

export async function measureClockOffset(tg: TelegramClient, opts: ClockSyncOptions = {}): Promise<ClockOffset> {
  const samples = opts.samples ?? 5;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const state = (tg as unknown as { _sender?: { _state?: StateLike } })._sender?._state;
  if (!state || typeof state.decryptMessageData !== "function") throw new Error("clock sync: gramjs internals changed (no sender state)");
  const pongs = new Map<string, { msgId: bigint; recvAt: number }>();
  const seePong = (obj: unknown, msgId: TLMessageLike["msgId"], recvAt: number) => {
    if (obj instanceof Api.Pong) pongs.set(obj.pingId.toString(), { msgId: BigInt(msgId.toString()), recvAt });
  };
  const original = state.decryptMessageData;
  state.decryptMessageData = async function (this: StateLike, body: Buffer) {
    const recvAt = nowMs();
    const m = await original.call(this, body);
    const inner = (m.obj as { messages?: TLMessageLike[] } | undefined)?.messages;
    if (Array.isArray(inner)) for (const x of inner) seePong(x.obj, x.msgId, recvAt);
    else seePong(m.obj, m.msgId, recvAt);
    return m;
  };
  const offset = new ClockOffset();
  try {
    for (let i = 0; i < samples; i++) {
      const pingId = generateRandomLong();
      const sentAt = nowMs();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        tg.invoke(new Api.Ping({ pingId })),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`clock sync: no pong within ${timeoutMs} ms`)), timeoutMs))),
      ]).finally(() => clearTimeout(timer));
      const pong = pongs.get(pingId.toString());
      if (pong) offset.addMsgId(pong.msgId, sentAt, Math.max(sentAt, pong.recvAt));
    }
  } finally {
    state.decryptMessageData = original;
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
