// A Bot API stand-in for faults: forwards every call to the sandbox, except those `fault` picks,
// which hang, have their connection reset, or get an HTTP error (a proxy's 502 page, a 409 ...).

export type Fault = "hang" | "reset" | number | undefined;
/** `n`: how many calls of this method came before, 1-based. */
export type FaultRule = (method: string, body: Record<string, unknown>, n: number) => Fault;

export interface FaultProxy {
  url: string;
  /** Calls per method so far. */
  calls: Map<string, number>;
  rule: FaultRule;
  stop(): void;
}

export function startFaultProxy(target: string, rule: FaultRule = () => undefined): FaultProxy {
  const calls = new Map<string, number>();
  const hung = new Set<() => void>();
  const proxy: FaultProxy = {
    url: "",
    calls,
    rule,
    stop() {
      for (const release of hung) release();
      server.stop(true);
    },
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const method = url.pathname.split("/").pop()!;
      const text = await req.text();
      const n = (calls.get(method) ?? 0) + 1;
      calls.set(method, n);
      const fault = proxy.rule(method, text ? JSON.parse(text) : {}, n);
      if (fault === "hang") return new Promise<Response>((resolve) => hung.add(() => resolve(new Response("released", { status: 502 }))));
      // Half an answer, then the connection is closed: the bot sees ECONNRESET.
      if (fault === "reset") return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{"ok"')), c.error(new Error("connection reset by the test fault proxy (expected)"))) }));
      if (typeof fault === "number") {
        // 5xx: a proxy's error page; 4xx: the Bot API's own answer.
        const description = fault === 409 ? "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" : "Bad Request: chat not found";
        return new Response(fault >= 500 ? "<html>Bad Gateway</html>" : JSON.stringify({ ok: false, error_code: fault, description }), { status: fault });
      }
      return fetch(target + url.pathname, { method: "POST", headers: { "content-type": "application/json" }, body: text || "{}", signal: req.signal });
    },
  });
  proxy.url = `http://127.0.0.1:${server.port}`;
  return proxy;
}
