// The sandbox speaks a client's layer: answers written with that layer's constructors, requests
// read back into gramjs's classes, and an unknown layer served by the nearest lower one it has.

import { describe, expect, spyOn, test } from "bun:test";
import { Api } from "telegram";
import { returnBigInt } from "telegram/Helpers";
import { codecForLayer, declaredLayer, DEFAULT_CODEC, KNOWN_LAYERS } from "../../sandbox/mtproto-layers.ts";

const user = () =>
  new Api.User({ self: true, id: returnBigInt(1000001n), accessHash: returnBigInt(42n), firstName: "Ann", phone: "79990000001", status: new Api.UserStatusOnline({ expires: 100 }) });

describe("layers", () => {
  test("the sandbox ships gramjs's layer, an older and a newer one", () => {
    expect(KNOWN_LAYERS).toEqual([144, 190, 198, 221]);
    expect(DEFAULT_CODEC.layer).toBe(198);
  });

  test("a layer without a schema gets the nearest lower one, with one log line", () => {
    const warn = spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(codecForLayer(210).layer).toBe(198);
      expect(codecForLayer(210).layer).toBe(198);
      expect(codecForLayer(195).layer).toBe(190);
      expect(codecForLayer(999).layer).toBe(221);
      expect(codecForLayer(100).layer).toBe(144); // below all: the lowest
      expect(codecForLayer(221).layer).toBe(221);
      expect(warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("layer 210"))).toHaveLength(1);
      expect(String(warn.mock.calls[0]![0])).toContain("answering in layer 198");
    } finally {
      warn.mockRestore();
    }
  });

  for (const layer of [144, 190, 221]) {
    test(`layer ${layer}: a User is written with that layer's constructor and reads back field for field`, () => {
      const codec = codecForLayer(layer);
      const bytes = codec.write(user());
      const ours = user().getBytes();
      expect(bytes.readUInt32LE(0)).not.toBe(ours.readUInt32LE(0)); // User's constructor differs in each of these layers
      const back = codec.read(bytes) as Api.User;
      expect(back).toBeInstanceOf(Api.User);
      expect([back.self, String(back.id), String(back.accessHash), back.firstName, back.phone]).toEqual([true, "1000001", "42", "Ann", "79990000001"]);
      expect((back.status as Api.UserStatusOnline).expires).toBe(100);
    });
  }

  test("a Vector and a Bool answer are written as TL's own", () => {
    const codec = codecForLayer(221);
    expect(codec.write(true).readUInt32LE(0)).toBe(0x997275b5);
    const v = codec.write([user(), user()]);
    expect([v.readUInt32LE(0), v.readInt32LE(4)]).toEqual([0x1cb5c415, 2]);
  });

  test("invokeWithLayer's layer is read from the request's first bytes", () => {
    const body = new Api.InvokeWithLayer({ layer: 221, query: new Api.help.GetConfig() }).getBytes();
    expect(declaredLayer(body)).toBe(221);
    expect(declaredLayer(new Api.help.GetConfig().getBytes())).toBeUndefined();
  });
});
