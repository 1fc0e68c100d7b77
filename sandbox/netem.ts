// Network conditions for the sandbox: a loopback TCP proxy in front of one door (MTProto or the
// Bot API) that holds every chunk for a one-way delay, plus jitter, in each direction, and keeps
// the order of bytes on each connection, as TCP does (a chunk never overtakes the one before it,
// so jitter on a busy connection bunches up instead of reordering).
//
// No packet loss: TCP never shows loss to the application above it (it resends, which looks like
// extra delay), so MTProto over TCP and HTTP could only ever see it as jitter. Connection setup is
// not delayed either: connections are opened once, before anything is measured.

import type { Socket, TCPSocketListener } from "bun";
import type { MtprotoServer } from "./mtproto.ts";

/** Applied to each direction separately: the round trip is twice the delay. */
export interface NetDelay {
  /** One-way delay, ms. */
  delayMs: number;
  /** Each chunk's delay is uniform in delayMs ± jitterMs (never below 0). */
  jitterMs?: number;
}

export interface DelayProxy {
  host: string;
  port: number;
  stop(): void;
}

export interface DelayProxyOptions {
  host: string;
  /** 0 (default): an ephemeral port. */
  port?: number;
  target: { host: string; port: number };
  delay: NetDelay;
  /** Random numbers in [0, 1) for the jitter (default Math.random). */
  random?: () => number;
}

/** Whether a delay setting does anything (no proxy is started otherwise). */
export function hasDelay(d: NetDelay | undefined): d is NetDelay {
  return d !== undefined && (d.delayMs > 0 || (d.jitterMs ?? 0) > 0);
}

/** Refuses settings that make no sense, with the setting's name. */
export function checkDelay(name: string, d: NetDelay): void {
  if (!Number.isFinite(d.delayMs) || d.delayMs < 0) throw new Error(`${name}: the delay must be a number of ms ≥ 0, not ${d.delayMs}`);
  const j = d.jitterMs ?? 0;
  if (!Number.isFinite(j) || j < 0) throw new Error(`${name}: the jitter must be a number of ms ≥ 0, not ${j}`);
}

/** One direction of one connection: chunks leave in order, each no earlier than its own delay. */
class DelayedPipe {
  private readonly queue: { at: number; chunk: Buffer | null }[] = [];
  private readonly backlog: Buffer[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastAt = 0;
  private ending = false;
  private out: Socket<unknown> | undefined;

  constructor(
    private readonly delay: NetDelay,
    private readonly random: () => number,
  ) {}

  /** Where the bytes go; until set (the upstream is still connecting), they wait. */
  attach(out: Socket<unknown>): void {
    this.out = out;
    this.drain();
  }

  push(chunk: Buffer): void {
    this.enqueue(Buffer.from(chunk)); // Bun may reuse the buffer it handed us
  }

  /** The other side closed: close this side too, after the bytes already on their way. */
  end(): void {
    this.enqueue(null);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private enqueue(chunk: Buffer | null): void {
    const jitter = this.delay.jitterMs ? (this.random() * 2 - 1) * this.delay.jitterMs : 0;
    const at = Math.max(this.lastAt, performance.now() + Math.max(0, this.delay.delayMs + jitter));
    this.lastAt = at;
    this.queue.push({ at, chunk });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    // Bun's timers may fire up to ~1 ms early: release() re-arms for whatever is not yet due.
    this.timer = setTimeout(() => this.release(), Math.max(0, this.queue[0]!.at - performance.now()));
  }

  private release(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length && this.queue[0]!.at <= now) {
      const { chunk } = this.queue.shift()!;
      if (chunk) this.backlog.push(chunk);
      else this.ending = true;
    }
    this.drain();
    this.schedule();
  }

  /** Writes what is due, as far as the socket takes it; the rest waits for its drain event. */
  drain(): void {
    const out = this.out;
    if (!out) return;
    while (this.backlog.length) {
      const chunk = this.backlog[0]!;
      const n = out.write(chunk);
      if (n < chunk.length) {
        this.backlog[0] = chunk.subarray(Math.max(0, n));
        return;
      }
      this.backlog.shift();
    }
    if (this.ending) out.end();
  }
}

interface Pair {
  /** client → server */
  up: DelayedPipe;
  /** server → client */
  down: DelayedPipe;
  upstream?: Socket<Pair>;
  /** sides closed so far (client, upstream) */
  closed: number;
}

export function startDelayProxy(o: DelayProxyOptions): DelayProxy {
  checkDelay("delay proxy", o.delay);
  const random = o.random ?? Math.random;
  const pairs = new Set<Pair>();
  const close = (p: Pair) => {
    pairs.delete(p);
    p.up.stop();
    p.down.stop();
  };
  /** One side is gone: pass the end on (after the bytes in flight); forget the pair once both are. */
  const sideClosed = (p: Pair, pipe: DelayedPipe) => {
    pipe.end();
    if (++p.closed === 2) pairs.delete(p);
  };

  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: o.host,
    port: o.port ?? 0,
    socket: {
      open(client) {
        const p: Pair = { up: new DelayedPipe(o.delay, random), down: new DelayedPipe(o.delay, random), closed: 0 };
        client.data = p;
        pairs.add(p);
        p.down.attach(client as Socket<unknown>);
        Bun.connect<Pair>({
          hostname: o.target.host,
          port: o.target.port,
          data: p,
          socket: {
            open(upstream) {
              p.upstream = upstream;
              p.up.attach(upstream as Socket<unknown>);
            },
            data(_upstream, chunk) {
              p.down.push(chunk);
            },
            drain() {
              p.up.drain();
            },
            close() {
              sideClosed(p, p.down);
            },
          },
        }).catch(() => {
          client.end();
          close(p);
        });
      },
      data(client, chunk) {
        client.data.up.push(chunk);
      },
      drain(client) {
        client.data.down.drain();
      },
      close(client) {
        sideClosed(client.data, client.data.up);
      },
    },
  });

  return {
    host: o.host,
    port: listener.port,
    stop() {
      for (const p of [...pairs]) {
        p.upstream?.end();
        close(p);
      }
      listener.stop(true);
    },
  };
}

/**
 * The same gramjs StringSession ("1" + base64 of dc, host, port, auth key) dialing another port:
 * what the sandbox hands out when a delay proxy stands in front of its MTProto door.
 */
export function sessionWithPort(session: string, port: number): string {
  const buf = Buffer.from(session.slice(1), "base64");
  const hostLen = buf.readUInt16BE(1);
  buf.writeUInt16BE(port, 3 + hostLen);
  return "1" + buf.toString("base64");
}

export interface DelayedDoors {
  /** What the sandbox advertises as its MTProto door: the proxy's port, sessions that dial it. */
  mtproto: MtprotoServer;
  botApiUrl: string;
  stop(): void;
}

/** Puts a delay proxy in front of each door that has a delay; the doors without one stay as they are. */
export function delayDoors(
  host: string,
  doors: { botApiPort: number; mtproto: MtprotoServer },
  delays: { botApiDelay?: NetDelay; mtprotoDelay?: NetDelay },
): DelayedDoors {
  const proxies: DelayProxy[] = [];
  const proxy = (port: number, delay: NetDelay | undefined, name: string): number => {
    if (!hasDelay(delay)) return port;
    checkDelay(name, delay);
    const p = startDelayProxy({ host, target: { host, port }, delay });
    proxies.push(p);
    return p.port;
  };
  const stopProxies = () => proxies.splice(0).forEach((p) => p.stop());
  try {
    const botApiPort = proxy(doors.botApiPort, delays.botApiDelay, "botApiDelay");
    const mt = doors.mtproto;
    const mtPort = proxy(mt.port, delays.mtprotoDelay, "mtprotoDelay");
    const mtproto: MtprotoServer =
      mtPort === mt.port
        ? mt
        : {
            ...mt,
            port: mtPort,
            sessionFor: (userId) => sessionWithPort(mt.sessionFor(userId), mtPort),
            async stop() {
              stopProxies();
              await mt.stop();
            },
          };
    return { mtproto, botApiUrl: `http://${host}:${botApiPort}`, stop: stopProxies };
  } catch (e) {
    stopProxies();
    throw e;
  }
}
