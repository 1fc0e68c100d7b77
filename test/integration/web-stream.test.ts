// The web page's endpoints over plain HTTP (no browser): the chat's event stream, creating a user
// on first use, errors that say what to do, and a stream whose reader left not hurting the bot.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import type { ChatInit, MessageView } from "../../sandbox/web/protocol.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const BOT = { token: "7200000001:web-stream-bot", username: "web_stream_bot" };
let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BOT] });
});
afterAll(() => sb.stop());

/** Opens the event stream at `path`; next() reads its next event. */
async function openStream(path: string) {
  const ctl = new AbortController();
  const res = await fetch(`${sb.botApiUrl}${path}`, { signal: ctl.signal });
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<{ event: string; data: unknown }> {
      while (!buffer.includes("\n\n")) {
        const r = await reader.read();
        if (r.done) throw new Error("the stream ended");
        buffer += decoder.decode(r.value, { stream: true });
      }
      const end = buffer.indexOf("\n\n");
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)![1]!;
      return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) };
    },
    close: () => ctl.abort(),
  };
}

const botSend = (chat_id: number, text: string) =>
  fetch(`${sb.botApiUrl}/bot${BOT.token}/sendMessage`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ chat_id, text }),
  });

describe("the chat's event stream", () => {
  test("a new phone becomes a user; the bot's messages and edits arrive as they happen", async () => {
    const stream = await openStream(`/web/chat?user=${encodeURIComponent("+7 999 000 00 42")}&bot=${BOT.username}`);
    const init = (await stream.next()) as { event: string; data: ChatInit };
    expect(init.event).toBe("init");
    expect(init.data.user.phone).toBe("+79990000042");
    expect(init.data.messages).toEqual([]);
    const userId = init.data.user.id;

    const sent = await fetch(`${sb.botApiUrl}/web/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: userId, bot: BOT.username, text: "/start" }),
    });
    expect(((await sent.json()) as MessageView).text).toBe("/start");
    expect(await stream.next()).toMatchObject({ event: "message", data: { fromBot: false, text: "/start" } });

    const reply = (await (await botSend(userId, "hello")).json()) as { result: { message_id: number } };
    expect(await stream.next()).toMatchObject({ event: "message", data: { fromBot: true, text: "hello", edited: false } });
    await fetch(`${sb.botApiUrl}/bot${BOT.token}/editMessageText`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat_id: userId, message_id: reply.result.message_id, text: "hello again" }),
    });
    expect(await stream.next()).toMatchObject({ event: "message", data: { id: reply.result.message_id, text: "hello again", edited: true } });

    stream.close();
    await Bun.sleep(20);
    expect((await botSend(userId, "still there?")).status).toBe(200); // a left page does not break the bot's sends
  });

  test("an unknown user id or a bot's name as the user is an error that says what to do", async () => {
    const unknown = await fetch(`${sb.botApiUrl}/web/chat?user=999`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain("/?user=+<phone>");
    const botAsUser = await fetch(`${sb.botApiUrl}/web/chat?user=@${BOT.username}`);
    expect(botAsUser.status).toBe(400);
    expect(((await botAsUser.json()) as { error: string }).error).toContain("is a bot");
  });

  test("the page and its script are served at the root", async () => {
    const page = await fetch(`${sb.botApiUrl}/`);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(await page.text()).toContain('src="/web/app.js"');
    const script = await fetch(`${sb.botApiUrl}/web/app.js`);
    expect(script.headers.get("content-type")).toStartWith("text/javascript");
    expect(await script.text()).toContain("EventSource"); // bundled for the browser from TypeScript
  });
});
