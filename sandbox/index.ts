// Start the whole sandbox in this process: one World, the Bot API + control HTTP server and the
// MTProto front, all on loopback. bot.ts, the demo, the benchmark and tests start it from here.

import { BotApi } from "./botapi.ts";
import { Control } from "./control.ts";
import { SANDBOX_HOST, sandboxPortFromEnv } from "./defaults.ts";
import { startMtproto, type MtprotoServer } from "./mtproto.ts";
import { delayDoors, type NetDelay } from "./netem.ts";
import type { RateLimitSetting } from "./ratelimit.ts";
import type { WatchTexts } from "./web/protocol.ts";
import { WebPage } from "./web/server.ts";
import { World } from "./world.ts";

export type { RateLimitOptions, RateLimitSetting } from "./ratelimit.ts";
export type { NetDelay } from "./netem.ts";

export interface SandboxOptions {
  /** How the web page's watch view recognises an opening (default: the default bot's texts). */
  watchTexts?: WatchTexts;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Bot API + control port; default $SANDBOX_BOT_API_PORT (read when the sandbox starts), else 8081; 0 = ephemeral. */
  botApiPort?: number;
  /** MTProto port; default $SANDBOX_MTPROTO_PORT (read when the sandbox starts), else 8443; 0 = ephemeral. */
  mtprotoPort?: number;
  /** Telegram's flood limits on bot sends and edits (429 retry_after): "telegram" (or true), or numbers. Off by default. */
  rateLimit?: RateLimitSetting;
  /** FLOOD_WAIT for MTProto users above this request rate. Off by default. */
  floodWait?: { requestsPerSecond: number } | null;
  /** Offset of the MTProto server's clock, for testing clock-sync code. */
  clockSkewMs?: number;
  /** How long a button press waits for the bot's answer (Telegram: about 15 s). */
  callbackTimeoutMs?: number;
  /** Bots to create up front, so that they resolve by username before their first request. */
  bots?: { token: string; username: string }[];
  /** Use this world instead of a new one (callbackTimeoutMs is then the world's). */
  world?: World;
  /** A one-way delay (± jitter) each way on the MTProto door (client ↔ DC). Off by default. */
  mtprotoDelay?: NetDelay;
  /** A one-way delay (± jitter) each way on the Bot API door (bot ↔ Bot API server). Off by default. */
  botApiDelay?: NetDelay;
}

export interface Sandbox {
  world: World;
  /** e.g. http://127.0.0.1:8081; gramio's api.baseURL is `${botApiUrl}/bot`. */
  botApiUrl: string;
  /** Base of the /sandbox/... endpoints (the same server as the Bot API). */
  controlUrl: string;
  mtprotoHost: string;
  mtprotoPort: number;
  mtproto: MtprotoServer;
  /** The user with this phone (created on first use) and a gramjs StringSession for them. */
  sessionFor(phone: string): { userId: number; session: string };
  /** The RSA public key (PKCS#1 PEM) a client must trust to create an auth key by key exchange. */
  rsaPublicKey(): { pem: string; fingerprint: string };
  stop(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? SANDBOX_HOST;
  if (!isLoopback(host)) throw new Error(`the sandbox listens on loopback only, not ${host}`);
  const world = opts.world ?? new World({ callbackTimeoutMs: opts.callbackTimeoutMs });
  for (const b of opts.bots ?? []) world.botForToken(b.token, b.username);

  const botApi = new BotApi(world, { rateLimit: opts.rateLimit });
  let mtproto: MtprotoServer | undefined;
  let botApiUrl = "";
  const control = new Control(world, { botApiUrl: () => botApiUrl, mtproto: () => mtproto });
  const web = new WebPage(world, opts.watchTexts);

  const port = opts.botApiPort ?? sandboxPortFromEnv("SANDBOX_BOT_API_PORT");
  const mtprotoPort = opts.mtprotoPort ?? sandboxPortFromEnv("SANDBOX_MTPROTO_PORT");
  const server = listen(port, "SANDBOX_BOT_API_PORT", () =>
    Bun.serve({
      hostname: host,
      port,
      idleTimeout: 0, // long polls stay silent for up to `timeout` seconds
      fetch(req) {
        // Cheaper than new URL(): req.url is always absolute here.
        const url = req.url;
        const start = url.indexOf("/", url.indexOf("//") + 2);
        const q = url.indexOf("?", start);
        const path = q < 0 ? url.slice(start) : url.slice(start, q);
        const search = q < 0 ? "" : url.slice(q + 1);
        if (path.startsWith("/bot")) return botApi.handle(req, path, search);
        if (path.startsWith("/sandbox/")) return control.handle(req, path, search);
        if (WebPage.owns(path)) return web.handle(req, path, search);
        return Response.json({ ok: false, error_code: 404, description: "Not Found" }, { status: 404 });
      },
    }),
  );
  botApiUrl = `http://${host}:${server.port}`;

  try {
    mtproto = await startMtproto(world, {
      host,
      port: mtprotoPort,
      floodWait: opts.floodWait ?? null,
      clockSkewMs: opts.clockSkewMs,
    });
  } catch (e) {
    server.stop(true);
    throw portError(e, mtprotoPort, "SANDBOX_MTPROTO_PORT");
  }
  // With network conditions, the doors the sandbox advertises (health, sessions, botApiUrl) are the delay proxies.
  let doors;
  try {
    doors = delayDoors(host, { botApiPort: server.port!, mtproto }, opts);
  } catch (e) {
    server.stop(true);
    await mtproto.stop();
    throw e;
  }
  const directUrl = botApiUrl;
  botApiUrl = doors.botApiUrl;
  mtproto = doors.mtproto;
  const mt = mtproto;

  let stopped = false;
  return {
    world,
    botApiUrl,
    controlUrl: `${directUrl}/sandbox`,
    mtprotoHost: mt.host,
    mtprotoPort: mt.port,
    mtproto: mt,
    sessionFor(phone) {
      const user = world.userForPhone(phone);
      return { userId: user.id, session: mt.sessionFor(user.id) };
    },
    rsaPublicKey: () => mt.rsaPublicKey(),
    async stop() {
      if (stopped) return;
      stopped = true;
      web.close();
      doors.stop();
      server.stop(true); // true: also end open long polls
      await mt.stop();
    },
  };
}

function listen<T>(port: number, envName: string, start: () => T): T {
  try {
    return start();
  } catch (e) {
    throw portError(e, port, envName);
  }
}

function portError(e: unknown, port: number, envName: string): unknown {
  const code = (e as { code?: string } | null)?.code;
  const text = String((e as Error | null)?.message ?? e);
  if (code === "EADDRINUSE" || /in use|EADDRINUSE/i.test(text)) {
    return new Error(`port ${port} is in use: is another sandbox or bot.ts running? set ${envName}=... to use another port`);
  }
  return e;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
