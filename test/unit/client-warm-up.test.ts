// The warm-up must drive the real hot-path code (TL parse → flow → request serialisation) through
// a whole booking, or it warms nothing; it must do so for any targets and recognised texts.
import "../../lib/client/gramjs/prelude.ts";
import { expect, test } from "bun:test";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers";
import { warmUp } from "../../lib/client/booker.ts";
import { DEFAULT_FLOW_CONFIG } from "../../lib/flow.ts";

const peer = new Api.InputPeerUser({ userId: returnBigInt(7000000001), accessHash: returnBigInt(42) });

test("every made-up booking runs through to the result", () => {
  expect(warmUp("7000000001", peer, { targets: [{ cities: ["Челябинск"], priority: 1 }] }, 20)).toBe(20);
});

test("with another bot's texts and targets too", () => {
  const texts = { ...DEFAULT_FLOW_CONFIG.texts, announcement: ["Booking is open"], confirmButton: ["Confirm"], booked: ["Booked"] };
  expect(warmUp("123", peer, { targets: [{ cities: ["Oslo", "Bergen"], priority: 2 }], texts }, 5)).toBe(5);
});
