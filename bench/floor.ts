// The floor under any gramjs client's reaction on this sandbox: a trivial client whose raw update
// handler sends a request the moment a bot message arrives, with no logic at all. Measured the
// same way as ours (sandbox push → request decoded), so the difference between the two is what
// our client itself adds; the floor itself is gramjs (decrypt, parse, dispatch, encrypt, its send
// loop) plus the sandbox's MTProto decode, on loopback, in one event loop.

import { Api } from "telegram";
import { Raw } from "telegram/events";
import { generateRandomLong } from "../lib/client/gramjs/fast-longs.ts";
import { connectAs } from "./clients.ts";
import { BENCH_BOT } from "./rig.ts";
import { startSandbox } from "../sandbox/index.ts";
import { sleep, summarise, type Pct } from "./stats.ts";

export async function benchFloor(n: number): Promise<Pct> {
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BENCH_BOT] });
  const { world } = sb;
  const bot = world.botByUsername(BENCH_BOT.username)!;
  const { userId, tg } = await connectAs(sb, "+79990000301");
  try {
    const resolved = await tg.invoke(new Api.contacts.ResolveUsername({ username: BENCH_BOT.username }));
    const u = resolved.users[0] as Api.User;
    const peer = new Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! });
    world.userSends(userId, bot.id, "/start");
    tg.addEventHandler((upd: unknown) => {
      if (upd instanceof Api.UpdateNewMessage) void tg.invoke(new Api.messages.SendMessage({ peer, message: "ack", randomId: generateRandomLong() })).catch(() => {});
    }, new Raw({}));
    const samples: number[] = [];
    let pushAt = 0;
    let recording = false;
    const stop = world.observe((e) => {
      if (e.type === "mtprotoPush" && e.userId === userId) pushAt = e.ts;
      else if (e.type === "mtprotoRequest" && e.userId === userId && e.method === "messages.SendMessage" && pushAt) {
        if (recording) samples.push(e.ts - pushAt);
        pushAt = 0;
      }
    });
    for (let i = 0; i < n + 10; i++) {
      recording = i >= 10;
      world.botSends(bot.id, userId, `floor ${i}`);
      const t = performance.now();
      while (pushAt && performance.now() - t < 2000) await sleep(1);
      await sleep(5 + Math.random() * 5);
    }
    stop();
    return summarise(samples);
  } finally {
    await tg.destroy().catch(() => {});
    await sb.stop();
  }
}

if (import.meta.main) console.log(await benchFloor(Number(process.argv[2] ?? 300)));
