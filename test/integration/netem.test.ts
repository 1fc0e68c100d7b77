// The sandbox's network conditions (sandbox/netem.ts): bytes arrive complete and in order through
// a jittery delay proxy, the delay is really applied (only lower bounds: the machine may add more,
// never less), ends of connections pass through, and startSandbox advertises the proxies as its doors.

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { Api } from "telegram";
import { startSandbox } from "../../sandbox/index.ts";
import { startDelayProxy } from "../../sandbox/netem.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const HOST = "127.0.0.1";
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

/** A TCP echo server on an ephemeral port. */
function echoServer() {
  const server = Bun.listen({
    hostname: HOST,
    port: 0,
    socket: {
      data(s, chunk) {
        s.write(chunk);
      },
    },
  });
  cleanup.push(() => server.stop(true));
  return server;
}

/** Connects to `port`, collects what comes back, reports when the connection closes. */
async function dial(port: number) {
  let received = Buffer.alloc(0);
  let onData = () => {};
  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const socket: Socket = await Bun.connect({
    hostname: HOST,
    port,
    socket: {
      data(_s, chunk) {
        received = Buffer.concat([received, chunk]);
        onData();
      },
      close: () => closed(),
    },
  });
  const receivedAtLeast = (n: number) =>
    new Promise<Buffer>((resolve) => {
      onData = () => received.length >= n && resolve(received);
      onData();
    });
  return { socket, receivedAtLeast, closed: closedP };
}

test("a jittery link keeps every byte in order, as TCP does", async () => {
  const echo = echoServer();
  // Jitter as large as the delay: without ordering, later chunks would often overtake earlier ones.
  const proxy = startDelayProxy({ host: HOST, target: { host: HOST, port: echo.port }, delay: { delayMs: 5, jitterMs: 5 } });
  cleanup.push(() => proxy.stop());
  const c = await dial(proxy.port);
  const lines = Array.from({ length: 100 }, (_, i) => `chunk ${i};`);
  for (const line of lines) {
    c.socket.write(line);
    await Bun.sleep(1); // separate chunks, closer together than the jitter
  }
  const all = lines.join("");
  const back = await c.receivedAtLeast(all.length);
  expect(back.toString()).toBe(all);
  c.socket.end();
});

test("the delay is applied each way and the end of a connection passes through", async () => {
  const echo = echoServer();
  const proxy = startDelayProxy({ host: HOST, target: { host: HOST, port: echo.port }, delay: { delayMs: 25, jitterMs: 5 } });
  cleanup.push(() => proxy.stop());
  const c = await dial(proxy.port);
  await c.socket.write("warm-up");
  await c.receivedAtLeast(7);
  const sent = performance.now();
  c.socket.write("ping");
  await c.receivedAtLeast(11);
  // At least 20 ms each way (25 − 5 of jitter).
  expect(performance.now() - sent).toBeGreaterThanOrEqual(40);
  echo.stop(true); // the server side goes away: the client must see its connection close
  await c.closed;
});

test("startSandbox puts the proxies in front of its doors: health, sessions and the Bot API URL point at them", async () => {
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, mtprotoDelay: { delayMs: 20 }, botApiDelay: { delayMs: 15 } });
  cleanup.push(() => sb.stop());
  const health = (await (await fetch(`${sb.controlUrl}/health`)).json()) as { result: { mtproto: { port: number }; bot_api_url: string } };
  expect(health.result.mtproto.port).toBe(sb.mtprotoPort);
  expect(health.result.bot_api_url).toBe(sb.botApiUrl);
  expect(sb.controlUrl.startsWith(sb.botApiUrl)).toBe(false); // the control endpoints stay undelayed

  // The Bot API through its proxy: a real call, at least one round trip of 2 × 15 ms.
  const t0 = performance.now();
  const me = (await (await fetch(`${sb.botApiUrl}/bot7100000001:netem-bot/getMe`)).json()) as { ok: boolean; result: { id: number } };
  expect(me.ok).toBe(true);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(30);

  // A gramjs client on a session the sandbox handed out dials the proxy and talks MTProto through it.
  const { userId, session } = sb.sessionFor("+79990000777");
  const tg = await connectSandboxClient(session);
  cleanup.push(() => tg.destroy().catch(() => {}));
  const self = (await tg.getMe()) as Api.User;
  expect(Number(self.id)).toBe(userId);
  const t1 = performance.now();
  await tg.invoke(new Api.Ping({ pingId: BigInt(7) as never }));
  expect(performance.now() - t1).toBeGreaterThanOrEqual(40);
});
