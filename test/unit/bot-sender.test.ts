// The send queue against a fake Bot API: priorities, per-chat pacing, 429 for everyone, final errors.

import { expect, test } from "bun:test";
import { TelegramError } from "gramio";
import { Sender, type SendApi, type SendLimits } from "../../lib/bot/sender.ts";
import { nullLogger } from "../../lib/log.ts";

const apiError = (code: number, retry_after?: number) =>
  new TelegramError({ ok: false, error_code: code, description: `error ${code}`, ...(retry_after ? { parameters: { retry_after } } : {}) }, "sendMessage", { chat_id: 1, text: "" });

function fakeApi(fail: (text: string, n: number) => Error | undefined = () => undefined) {
  const sent: { chat: number; text: string; at: number }[] = [];
  let n = 0;
  const api = {
    async sendMessage(p: { chat_id: number; text: string }) {
      const e = fail(p.text, ++n);
      if (e) throw e;
      sent.push({ chat: p.chat_id, text: p.text, at: performance.now() });
      return { message_id: n };
    },
    async editMessageText() {
      return true;
    },
    async answerCallbackQuery() {
      return true;
    },
  } as unknown as SendApi;
  return { api, sent };
}

const limits = (o: Partial<SendLimits> = {}): SendLimits => ({ perS: 1000, burst: 1000, chatPerS: 1000, chatBurst: 1000, broadcastPerS: 1000, ...o });

test("higher priorities go first: a winner's result, other results, replies, the announcement", async () => {
  const { api, sent } = fakeApi();
  const s = new Sender(api, nullLogger, limits({ perS: 20, burst: 1 }));
  const first = s.send(1, "first"); // takes the only token
  const all = [s.send(2, "broadcast", { priority: "broadcast" }), s.send(3, "reply"), s.send(4, "result", { priority: "result" }), s.send(5, "won", { priority: "won" })];
  expect(await Promise.all([first, ...all])).toEqual(["sent", "sent", "sent", "sent", "sent"]);
  expect(sent.map((m) => m.text)).toEqual(["first", "won", "result", "reply", "broadcast"]);
});

test("one chat is paced after its burst; other chats are not held up", async () => {
  const { api, sent } = fakeApi();
  const s = new Sender(api, nullLogger, limits({ chatPerS: 10, chatBurst: 2 }));
  await Promise.all([1, 2, 3, 4].map((i) => s.send(7, `to 7 #${i}`)).concat(s.send(8, "to 8")));
  const to7 = sent.filter((m) => m.chat === 7);
  expect(sent.findIndex((m) => m.chat === 8)).toBeLessThan(3); // not behind chat 7's wait
  expect(to7[2]!.at - to7[1]!.at).toBeGreaterThanOrEqual(80); // ~100 ms apart after the burst of 2
  expect(to7[3]!.at - to7[2]!.at).toBeGreaterThanOrEqual(80);
});

test("a 429 pauses every send for retry_after, then all go through", async () => {
  const { api, sent } = fakeApi((text, n) => (n === 1 ? apiError(429, 1) : undefined));
  const s = new Sender(api, nullLogger, limits());
  const t0 = performance.now();
  const a = s.send(1, "a");
  await Bun.sleep(50); // the 429 is back
  expect(await Promise.all([a, s.send(2, "b")])).toEqual(["sent", "sent"]);
  for (const m of sent) expect(m.at - t0).toBeGreaterThanOrEqual(950); // b, to another chat, waited too
  expect(s.counts.n429).toBe(1);
});

test("400 and 403 are final; 403 marks the user", async () => {
  const blocked: number[] = [];
  const { api } = fakeApi((text) => (text === "bad" ? apiError(400) : text === "blocked" ? apiError(403) : undefined));
  const s = new Sender(api, nullLogger, limits(), (id) => blocked.push(id));
  expect(await s.send(1, "bad", { userId: 1 })).toBe("failed");
  expect(await s.send(2, "blocked", { userId: 2 })).toBe("blocked");
  expect(blocked).toEqual([2]);
});

test("stop: what is queued resolves unsent at once", async () => {
  const { api } = fakeApi();
  const s = new Sender(api, nullLogger, limits({ perS: 1, burst: 1 }));
  const a = s.send(1, "a");
  const b = s.send(2, "b");
  await s.stop(1000);
  expect(await a).toBe("sent");
  expect(await b).toBe("unsent");
  expect(await s.send(3, "c")).toBe("unsent");
});
