// The fast long helpers must give exactly what gramjs's own give: MTProto ids, salts and access
// hashes go through them on every message, so a single differing byte breaks the protocol.
import "../../lib/client/gramjs/prelude.ts";
import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { generateRandomLong, original, readBigIntFromBuffer, readBufferFromBigInt, toSignedLittleBuffer } from "../../lib/client/gramjs/fast-longs.ts";

// gramjs's own modules require() Helpers; an ESM `import *` would be a snapshot taken before the patch.
const gramHelpers = createRequire(import.meta.url)("telegram/Helpers");

const EDGES = [0n, 1n, 255n, 256n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const SIGNED_EDGES = [-1n, -2n, -(2n ** 31n), -(2n ** 63n), 2n ** 63n - 1n, 0n];

function randomBuffers(size: number, n: number): Buffer[] {
  const out = [Buffer.alloc(size), Buffer.alloc(size, 0xff), Buffer.from([0x80, ...Array(size - 1).fill(0)]), Buffer.from([...Array(size - 1).fill(0), 0x80])];
  for (let i = 0; i < n; i++) out.push(randomBytes(size));
  return out;
}

describe("gramjs fast longs", () => {
  test("are installed into gramjs's Helpers, as gramjs's own modules require it", () => {
    expect(gramHelpers.readBigIntFromBuffer).toBe(readBigIntFromBuffer);
    expect(gramHelpers.toSignedLittleBuffer).toBe(toSignedLittleBuffer);
    expect(gramHelpers.readBufferFromBigInt).toBe(readBufferFromBigInt);
    expect(gramHelpers.generateRandomLong).toBe(generateRandomLong);
    for (const name of ["readBigIntFromBuffer", "toSignedLittleBuffer", "readBufferFromBigInt"] as const) expect(original[name]).not.toBe(gramHelpers[name]);
  });

  test("readBigIntFromBuffer equals gramjs's for 4, 8, 16 and 32 bytes, every sign and byte order", () => {
    for (const size of [4, 8, 16, 32]) {
      for (const b of randomBuffers(size, 200)) {
        for (const little of [true, false]) {
          for (const signed of [true, false]) {
            const before = Buffer.from(b);
            const fast = readBigIntFromBuffer(b, little, signed).toString();
            expect(fast).toBe(original.readBigIntFromBuffer(b, little, signed).toString());
            expect(b).toEqual(before); // the input is never reversed in place
          }
        }
      }
    }
  });

  test("toSignedLittleBuffer equals gramjs's for positive and negative values", () => {
    const values = [...EDGES, ...SIGNED_EDGES];
    for (let i = 0; i < 300; i++) values.push(randomBytes(8).readBigInt64LE(0), randomBytes(8).readBigUInt64LE(0));
    for (const v of values) {
      for (const size of [8, 16, 32]) {
        expect(toSignedLittleBuffer(gramHelpers.returnBigInt(v), size)).toEqual(original.toSignedLittleBuffer(gramHelpers.returnBigInt(v), size));
      }
      expect(toSignedLittleBuffer(v, 8)).toEqual(original.toSignedLittleBuffer(v, 8));
    }
  });

  test("readBufferFromBigInt equals gramjs's, errors included", () => {
    const values = [...EDGES, ...SIGNED_EDGES, 2n ** 64n, 2n ** 70n];
    for (let i = 0; i < 300; i++) values.push(randomBytes(8).readBigUInt64LE(0));
    const run = (f: typeof original.readBufferFromBigInt, v: bigint, n: number, little: boolean, signed: boolean) => {
      try {
        return f(gramHelpers.returnBigInt(v), n, little, signed);
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const v of values) {
      for (const n of [8, 16]) {
        for (const little of [true, false]) {
          for (const signed of [true, false]) {
            expect(run(readBufferFromBigInt, v, n, little, signed)).toEqual(run(original.readBufferFromBigInt, v, n, little, signed));
          }
        }
      }
    }
  });

  test("generateRandomLong gives signed 64-bit values of both signs", () => {
    const xs = Array.from({ length: 2000 }, () => BigInt(generateRandomLong().toString()));
    expect(xs.every((x) => x >= -(2n ** 63n) && x < 2n ** 63n)).toBe(true);
    expect(xs.some((x) => x < 0n)).toBe(true);
    expect(new Set(xs.map(String)).size).toBe(xs.length);
    expect(BigInt(generateRandomLong(false).toString()) >= 0n).toBe(true);
  });
});
