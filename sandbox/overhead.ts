// The Bot API front's own cost per hop, measured in one process on loopback:
//   bun sandbox/overhead.ts [N]
// 1. sendMessage round trip (fetch -> world -> Message JSON back);
// 2. update hop: a user's message enters the world -> a waiting getUpdates returns it;
// 3. full turn through an unmodified gramio bot: user message -> bot handler -> reply in world.

import { Bot } from "gramio";
import { startSandbox } from "./index.ts";

const N = Number(process.argv[2] ?? 1000);
const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
const token = "7999000001:overhead";
const base = `${sb.botApiUrl}/bot${token}`;
await fetch(`${base}/getMe`);
const botId = 7999000001;
const user = sb.world.createUser({ first_name: "Bench" });
sb.world.userSends(user.id, botId, "hi");

/** Nearest rank, as the project's other figures (lib/percentile.ts; the sandbox imports nothing from lib/). */
function report(name: string, ms: number[]): void {
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.max(0, Math.ceil(p * ms.length) - 1))]!.toFixed(3);
  console.log(`${name.padEnd(44)} p50 ${q(0.5)} ms  p90 ${q(0.9)} ms  p99 ${q(0.99)} ms  (n=${ms.length})`);
}

// 1. sendMessage round trip
const body = JSON.stringify({ chat_id: user.id, text: "hello", reply_markup: { inline_keyboard: [[{ text: "🧪 Тест", callback_data: "test" }]] } });
const send = async () => {
  const r = await fetch(`${base}/sendMessage`, { method: "POST", headers: { "content-type": "application/json" }, body });
  await r.json();
};
for (let i = 0; i < 200; i++) await send(); // warm-up
const rt: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  await send();
  rt.push(performance.now() - t0);
}
report("sendMessage round trip", rt);

// 2. update hop: world event -> long poll answered and parsed by the poller
let offset = 0;
const poll = async () => {
  const r = await fetch(`${base}/getUpdates`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ offset, timeout: 10 }) });
  const { result } = (await r.json()) as { result: { update_id: number }[] };
  offset = result.at(-1)!.update_id + 1;
  return performance.now();
};
const hop: number[] = [];
for (let i = 0; i < N + 200; i++) {
  const p = poll();
  await Bun.sleep(0); // let the poll reach the server and wait there
  await Bun.sleep(0);
  const t0 = performance.now();
  sb.world.userSends(user.id, botId, "ping");
  const t1 = await p;
  if (i >= 200) hop.push(t1 - t0);
}
report("update hop (user message -> getUpdates)", hop);

// 3. full turn through gramio
const bot = new Bot(token, { api: { baseURL: `${sb.botApiUrl}/bot` } }).on("message", (ctx) => ctx.send("pong"));
await bot.start({ longPolling: { timeout: 10 } });
const turn: number[] = [];
for (let i = 0; i < N + 100; i++) {
  const reply = new Promise<number>((resolve) => {
    const off = sb.world.listen(user.id, (e) => {
      if (e.type === "newMessage" && e.message.outgoingFromBot) {
        off();
        resolve(e.message.ts);
      }
    });
  });
  const sent = sb.world.userSends(user.id, botId, "ping").ts;
  const got = await reply;
  if (i >= 100) turn.push(got - sent);
}
report("gramio turn (user message -> bot reply)", turn);

await bot.stop();
for (const wake of [...sb.world.bots.get(botId)!.waiters]) wake();
await Bun.sleep(20);
await sb.stop();
