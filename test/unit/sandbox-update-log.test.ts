// An account's pts moves by one per new or edited message and by the count of deleted ones;
// since(pts) is exactly what a client at that pts has not seen.

import { expect, test } from "bun:test";
import { UpdateLog } from "../../sandbox/mtproto-updates.ts";
import type { Message } from "../../sandbox/world.ts";

const msg = (userMsgId: number) => ({ id: userMsgId, userMsgId, userId: 1, botId: 2, outgoingFromBot: true, text: `m${userMsgId}`, date: 0, ts: 0 }) as Message;

test("pts counts changes; since() returns what came after a pts, oldest first", () => {
  const log = new UpdateLog();
  expect(log.pts).toBe(1);
  log.record({ kind: "new", message: msg(1) });
  const seen = log.pts;
  log.record({ kind: "edit", message: msg(1) });
  log.record({ kind: "delete", userMsgIds: [1, 2] });
  log.record({ kind: "new", message: msg(3) });
  expect(log.pts).toBe(6);
  expect(log.since(seen).map((u) => [u.kind, u.pts, u.ptsCount])).toEqual([
    ["edit", 3, 1],
    ["delete", 5, 2],
    ["new", 6, 1],
  ]);
  expect(log.since(log.pts)).toEqual([]);
  expect(log.since(0)).toHaveLength(4);
});
