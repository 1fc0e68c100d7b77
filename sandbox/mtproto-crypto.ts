// MTProto 2.0 for the sandbox server: the encrypted message envelope (server side of
// core.telegram.org/mtproto/description) and server message ids. Transports: mtproto-transport.ts.
// AES-256-IGE comes from gramjs itself, so client and server share one implementation.

import "./gramjs-prelude.ts";
import { createHash, randomBytes } from "node:crypto";
import { IGE } from "telegram/crypto/IGE";

// ---- auth keys ----

export function newAuthKey(): Buffer {
  return randomBytes(256);
}

/** auth_key_id: the lower 64 bits of SHA1(auth_key), as the 8 bytes that start every message. */
export function authKeyId(key: Uint8Array): bigint {
  return createHash("sha1").update(key).digest().readBigUInt64LE(12);
}

// ---- encrypted messages ----

export interface Envelope {
  salt: bigint;
  sessionId: bigint;
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** MTProto 2.0 key derivation; x = 0 for client-to-server messages, 8 for server-to-client. */
function aesKeyIv(authKey: Buffer, msgKey: Buffer, x: 0 | 8): { key: Buffer; iv: Buffer } {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(x + 40, x + 76), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** Decrypts a client message (the payload after the 8-byte auth_key_id). Throws on a bad msg_key. */
export function decryptFromClient(authKey: Buffer, payload: Buffer): Envelope {
  if (payload.length < 24 + 32) throw new Error("bad encrypted message size");
  // Padded intermediate transport: up to 15 random bytes after the message.
  payload = payload.subarray(0, payload.length - ((payload.length - 24) % 16));
  const msgKey = payload.subarray(8, 24);
  const { key, iv } = aesKeyIv(authKey, msgKey, 0);
  const plain = new IGE(key, iv).decryptIge(payload.subarray(24));
  if (!sha256(authKey.subarray(88, 120), plain).subarray(8, 24).equals(msgKey)) throw new Error("msg_key mismatch");
  const len = plain.readInt32LE(28);
  if (len < 0 || len > plain.length - 32 || len % 4 !== 0) throw new Error("bad inner message length");
  return {
    salt: plain.readBigInt64LE(0),
    sessionId: plain.readBigInt64LE(8),
    msgId: plain.readBigInt64LE(16),
    seqNo: plain.readInt32LE(24),
    body: plain.subarray(32, 32 + len),
  };
}

/** Encrypts a server message: auth_key_id + msg_key + AES-IGE(salt, session, msg_id, seq, len, body, padding). */
export function encryptToClient(authKey: Buffer, keyId: bigint, env: Envelope): Buffer {
  const unpadded = 32 + env.body.length;
  const padLen = 12 + ((16 - ((unpadded + 12) % 16)) % 16);
  const plain = Buffer.allocUnsafe(unpadded + padLen);
  plain.writeBigInt64LE(env.salt, 0);
  plain.writeBigInt64LE(env.sessionId, 8);
  plain.writeBigInt64LE(env.msgId, 16);
  plain.writeInt32LE(env.seqNo, 24);
  plain.writeInt32LE(env.body.length, 28);
  plain.set(env.body, 32);
  randomBytes(padLen).copy(plain, unpadded);
  const msgKey = sha256(authKey.subarray(96, 128), plain).subarray(8, 24);
  const { key, iv } = aesKeyIv(authKey, msgKey, 8);
  const out = Buffer.allocUnsafe(8 + 16 + plain.length);
  out.writeBigUInt64LE(keyId, 0);
  msgKey.copy(out, 8);
  new IGE(key, iv).encryptIge(plain).copy(out, 24);
  return out;
}

// ---- message ids ----

/**
 * Server msg_ids: unix time * 2^32 (shifted by the configured clock skew), strictly increasing,
 * 1 mod 4 for responses and 3 mod 4 for messages the server sends on its own.
 */
export class MsgIdClock {
  private last = 0n;
  constructor(private readonly skewMs: number) {}

  next(kind: "response" | "content"): bigint {
    const ms = Date.now() + this.skewMs;
    const sec = Math.floor(ms / 1000);
    const frac = Math.floor(((ms - sec * 1000) / 1000) * 2 ** 32);
    let base = ((BigInt(sec) << 32n) | BigInt(frac)) & ~3n;
    if (base <= this.last) base = this.last + 4n;
    this.last = base;
    return base | (kind === "response" ? 1n : 3n);
  }

  /** Seconds of server time (with skew). */
  nowSec(): number {
    return Math.floor((Date.now() + this.skewMs) / 1000);
  }
}

/** The unix time a client msg_id claims. */
export function msgIdTimeSec(msgId: bigint): number {
  return Number(msgId >> 32n);
}
