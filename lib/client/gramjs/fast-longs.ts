// gramjs converts every 64-bit long (msg_id, salt, ids, access hashes) through hex and binary
// strings: a fifth of our hot path's CPU. These native BigInt drop-ins return the same `big-integer`
// values (other sizes and rare cases fall through to gramjs's code); they must be installed before
// gramjs's TL layer loads (tl/api.js copies toSignedLittleBuffer). ESM imports see the originals.

import type { BigInteger } from "big-integer";
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";

type Helpers = {
  returnBigInt(num: bigint | number): BigInteger;
  generateRandomLong(signed?: boolean): BigInteger;
  readBigIntFromBuffer(buffer: Uint8Array | number[], little?: boolean, signed?: boolean): BigInteger;
  toSignedLittleBuffer(big: unknown, number?: number): Buffer;
  readBufferFromBigInt(big: unknown, bytesNumber: number, little?: boolean, signed?: boolean): Buffer;
};

// The CommonJS exports object itself (an ESM namespace would be read-only), shared with gramjs.
const helpers = createRequire(import.meta.url)("telegram/Helpers") as Helpers & { __aprelFastLongs?: Helpers };
const bigInt = (v: bigint | number) => helpers.returnBigInt(v);

// gramjs's own, for the fall-through cases and the equivalence tests (kept once if loaded twice).
export const original: Helpers = helpers.__aprelFastLongs ?? { ...helpers };

function toNative(x: unknown): bigint {
  if (typeof x === "bigint") return x;
  if (typeof x === "number") return BigInt(x);
  // big-integer wraps a native bigint in `.value` wherever the engine has BigInt (always, in Bun).
  const v = (x as { value?: unknown } | null)?.value;
  return typeof v === "bigint" ? v : BigInt(String(x));
}

export function readBigIntFromBuffer(buffer: Uint8Array | number[], little = true, signed = false): BigInteger {
  const b = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer);
  if (b.length === 4) return bigInt(little ? (signed ? b.readInt32LE(0) : b.readUInt32LE(0)) : signed ? b.readInt32BE(0) : b.readUInt32BE(0));
  if (b.length !== 8) return original.readBigIntFromBuffer(buffer, little, signed);
  const v = little ? b.readBigUInt64LE(0) : b.readBigUInt64BE(0);
  return bigInt(signed ? BigInt.asIntN(64, v) : v);
}

// Every TL int and long a request carries is written through this (4 and 8 bytes; int128/256 too).
export function toSignedLittleBuffer(big: unknown, number = 8): Buffer {
  const v = BigInt.asUintN(number * 8, toNative(big));
  const out = Buffer.alloc(number);
  if (number === 8) out.writeBigUInt64LE(v, 0);
  else for (let i = 0, x = v; i < number && x > 0n; i++, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

export function readBufferFromBigInt(big: unknown, bytesNumber: number, little = true, signed = false): Buffer {
  const v = toNative(big);
  // Negative values (errors or two's complement): gramjs's own code and messages.
  if (v < 0n || bytesNumber !== 8) return original.readBufferFromBigInt(big, bytesNumber, little, signed);
  if (v >> 64n) throw new Error("OverflowError: int too big to convert");
  const out = Buffer.allocUnsafe(8);
  if (little) out.writeBigUInt64LE(v, 0);
  else out.writeBigUInt64BE(v, 0);
  return out;
}

/** A random long for message and request ids (gramjs's calls its own slow reader directly). */
export function generateRandomLong(signed = true): BigInteger {
  return readBigIntFromBuffer(randomBytes(8), true, signed);
}

helpers.__aprelFastLongs = original;
helpers.generateRandomLong = generateRandomLong;
helpers.readBigIntFromBuffer = readBigIntFromBuffer;
helpers.toSignedLittleBuffer = toSignedLittleBuffer;
helpers.readBufferFromBigInt = readBufferFromBigInt;
