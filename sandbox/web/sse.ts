// A Server-Sent Events response: `open` starts pushing events and returns how to stop. The stream
// ends when the browser goes away (request aborted or stream cancelled) or when `close` is called.

export type Send = (event: string, data: unknown) => void;

export interface EventStream {
  response: Response;
  /** Resolves when the stream has ended, for whatever reason. */
  ended: Promise<void>;
  close(): void;
}

export function eventStream(req: Request, open: (send: Send) => () => void): EventStream {
  const encoder = new TextEncoder();
  let stop: (() => void) | undefined;
  let ended = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const { promise, resolve } = Promise.withResolvers<void>();
  const end = () => {
    if (ended) return;
    ended = true;
    stop?.();
    resolve();
    try {
      controller.close();
    } catch {
      // already closed by the browser
    }
  };
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      // Called from inside the world's event dispatch: it must never throw into a bot's request.
      const send: Send = (event, data) => {
        if (ended) return;
        try {
          c.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          end(); // the browser is gone
        }
      };
      stop = open(send);
      req.signal.addEventListener("abort", end);
    },
    cancel: end,
  });
  const headers = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" };
  return { response: new Response(stream, { headers }), ended: promise, close: end };
}
