import "../../lib/client/gramjs/prelude.ts";
import { describe, expect, test } from "bun:test";
import { bestOf, describeOffset, msgIdToEpochMs, offsetFromMsgId } from "../../lib/client/clock-sync.ts";

describe("clock offset from MTProto message ids", () => {
  const msgId = (epochMs: number) => {
    const sec = Math.floor(epochMs / 1000);
    const frac = Math.round(((epochMs / 1000 - sec) * 2 ** 32) / 4) * 4 + 1; // server ids are odd
    return (BigInt(sec) << 32n) | BigInt(frac);
  };

  test("a message id carries the server's time", () => {
    expect(msgIdToEpochMs(msgId(1_750_000_000_250))).toBeCloseTo(1_750_000_000_250, 3);
    expect(msgIdToEpochMs(1_750_000_000n << 32n)).toBe(1_750_000_000_000);
  });

  test("offset = server time - midpoint of send and receive", () => {
    const s = offsetFromMsgId(msgId(1_750_000_000_500), 1_750_000_000_000, 1_750_000_000_200);
    expect(s.offsetMs).toBeCloseTo(400, 3);
    expect(s.rttMs).toBe(200);
    expect(() => offsetFromMsgId(msgId(0), 10, 5)).toThrow(RangeError);
  });

  test("the sample with the smallest round trip wins", () => {
    const base = 1_750_000_000_000;
    const c = bestOf([
      offsetFromMsgId(msgId(base + 1_100), base, base + 200), // offset 1000, rtt 200
      offsetFromMsgId(msgId(base + 5_020), base + 5_000, base + 5_040), // offset 0, rtt 40
      offsetFromMsgId(msgId(base + 9_500), base + 9_000, base + 9_300), // offset 350, rtt 300
    ]);
    expect(c.samples.length).toBe(3);
    expect(c.rttMs).toBe(40);
    expect(c.offsetMs).toBeCloseTo(0, 3);
    expect(describeOffset(c)).toBe("+0.0 ms (±20.0 ms, best of 3)");
  });
});
