// MTProto's service layer as Telegram answers it, apart from the API methods: containers and gzip
// unpacked to single messages, and the answers to get_future_salts, destroy_session,
// msgs_state_req; msgs_ack, http_wait (meaningless over TCP) and msg_resend_req need no answer
// (core.telegram.org/mtproto/service_messages).

import "./gramjs-prelude.ts";
import { gunzipSync } from "node:zlib";
import { Api } from "telegram";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt } from "telegram/Helpers";

const MSG_CONTAINER = 0x73f1f8dc;
const GZIP_PACKED = 0x3072cfa1;
const FUTURE_SALTS = 0xae500895;

export interface InnerMessage {
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

/**
 * The messages inside one decrypted message body: a msg_container's members, a gzip_packed body
 * unpacked, or the body itself. Undecodable members come out as they are, to get their own error.
 */
export function unpackMessages(msg: InnerMessage): InnerMessage[] {
  if (msg.body.length < 4) return [msg];
  const ctor = msg.body.readUInt32LE(0);
  if (ctor === GZIP_PACKED) {
    const packed = new BinaryReader(msg.body.subarray(4)).tgReadBytes();
    return unpackMessages({ ...msg, body: gunzipSync(packed) });
  }
  if (ctor !== MSG_CONTAINER) return [msg];
  const out: InnerMessage[] = [];
  const count = msg.body.readInt32LE(4);
  let at = 8;
  for (let i = 0; i < count && at + 16 <= msg.body.length; i++) {
    const msgId = msg.body.readBigInt64LE(at);
    const seqNo = msg.body.readInt32LE(at + 8);
    const length = msg.body.readInt32LE(at + 12);
    const body = msg.body.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    out.push(...unpackMessages({ msgId, seqNo, body }));
  }
  return out;
}

/** What the service layer knows about a connection and its session. */
export interface ServiceState {
  salt: bigint;
  nowSec: number;
  /** Forgets a session of this auth key; false when the server does not know it. */
  destroySession(sessionId: bigint): boolean;
  /** msg_ids this connection received recently. */
  received: Set<bigint>;
}

/** A service message's answer (sent as it is, not in an rpc_result), or "none" for one that needs none. */
export type ServiceAnswer = { body: Buffer; contentRelated: boolean } | "none";

const big = (n: bigint) => returnBigInt(n);
const SALT_PERIOD_S = 3600;

/** The answer to a service message, or undefined when obj is not one (an API request). */
export function serviceAnswer(obj: unknown, msgId: bigint, s: ServiceState): ServiceAnswer | undefined {
  if (obj instanceof Api.MsgsAck || obj instanceof Api.HttpWait || obj instanceof Api.MsgResendReq) return "none";
  if (obj instanceof Api.GetFutureSalts) {
    return { body: futureSalts(msgId, obj.num, s), contentRelated: false };
  }
  if (obj instanceof Api.DestroySession) {
    const known = s.destroySession(BigInt(String(obj.sessionId)));
    const body = known ? new Api.DestroySessionOk({ sessionId: obj.sessionId }) : new Api.DestroySessionNone({ sessionId: obj.sessionId });
    return { body: body.getBytes(), contentRelated: false };
  }
  if (obj instanceof Api.MsgsStateReq) {
    // gramjs types info as a string; its bytes are one status (1-4, plain ASCII) per msg_id.
    const info = String.fromCharCode(...obj.msgIds.map((id) => msgState(BigInt(String(id)), s)));
    return { body: new Api.MsgsStateInfo({ reqMsgId: big(msgId), info }).getBytes(), contentRelated: false };
  }
  return undefined;
}

/**
 * future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt>, written by hand: the
 * vector and its future_salt items are bare (no constructor ids), which gramjs's class gets wrong.
 * The sandbox keeps one salt per key, so every period has the same one.
 */
function futureSalts(reqMsgId: bigint, num: number, s: ServiceState): Buffer {
  const n = Math.max(1, Math.min(64, num));
  const out = Buffer.alloc(4 + 8 + 4 + 4 + n * 16);
  out.writeUInt32LE(FUTURE_SALTS, 0);
  out.writeBigInt64LE(reqMsgId, 4);
  out.writeInt32LE(s.nowSec, 12);
  out.writeInt32LE(n, 16);
  for (let i = 0; i < n; i++) {
    const validSince = s.nowSec + i * SALT_PERIOD_S;
    out.writeInt32LE(validSince, 20 + i * 16);
    out.writeInt32LE(validSince + SALT_PERIOD_S, 24 + i * 16);
    out.writeBigInt64LE(s.salt, 28 + i * 16);
  }
  return out;
}

/** core.telegram.org/mtproto/service_messages_about_messages: 1 unknown, 2 too old, 3 too new, 4 received. */
function msgState(id: bigint, s: ServiceState): number {
  const t = Number(id >> 32n);
  if (t < s.nowSec - 300) return 2;
  if (t > s.nowSec + 30) return 3;
  return s.received.has(id) ? 4 : 1;
}
