// The sandbox's /sandbox control endpoints and its command line, with a gramio bot on the other
// side answering the button a person presses.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { InlineKeyboard } from "gramio";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { sandboxBot, startBot, stopBot } from "../helpers/sandbox-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const TOKEN = "7200000001:control-test";
const BOT = "control_test_bot";
let sb: Sandbox;
let bot: ReturnType<typeof sandboxBot>;

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [{ token: TOKEN, username: BOT }] });
  bot = sandboxBot(sb, TOKEN)
    .command("start", (ctx) => ctx.send("Меню", { reply_markup: new InlineKeyboard().text("🧪 Тест", "test") }))
    .on("callback_query", (ctx) => ctx.answer({ text: "Тест запущен" }));
  await startBot(bot);
});
afterAll(async () => {
  await stopBot(sb, bot);
  await sb.stop();
});

async function control(method: "GET" | "POST", path: string, body?: object) {
  const res = await fetch(`${sb.controlUrl}/${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (await res.json()) as any };
}

async function cli(...args: string[]) {
  const p = Bun.spawn(["bun", "sandbox/cli.ts", ...args, "--url", sb.botApiUrl], { cwd: `${import.meta.dir}/../..`, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

async function waitForHistory(userId: number, n: number) {
  for (let i = 0; i < 200; i++) {
    const h = await control("GET", `history?user_id=${userId}&bot=${BOT}`);
    if (h.body.result.length >= n) return h.body.result;
    await Bun.sleep(5);
  }
  throw new Error("no reply from the bot");
}

describe("control endpoints", () => {
  test("health, users, send, history, press", async () => {
    const health = await control("GET", "health");
    expect(health.body).toMatchObject({ ok: true, result: { bot_api_url: sb.botApiUrl, mtproto: { port: sb.mtprotoPort } } });

    const created = await control("POST", "users", { first_name: "Anna", username: "anna_c", phone: "+7 999 000-00-01" });
    expect(created.body.result).toMatchObject({ first_name: "Anna", username: "anna_c", phone: "+79990000001" });
    const id = created.body.result.id;
    expect((await control("POST", "users", { phone: "+79990000001" })).status).toBe(409);

    const sent = await control("POST", "send", { user_id: "@anna_c", bot: BOT, text: "/start" });
    expect(sent.body.result).toMatchObject({ id: 1, from_bot: false, text: "/start" });
    const history = await waitForHistory(id, 2);
    expect(history[1]).toMatchObject({ from_bot: true, text: "Меню", buttons: [{ text: "🧪 Тест", callback_data: "test" }] });

    const pressed = await control("POST", "press", { user_id: "+79990000001", bot: BOT, label: "Тест" });
    expect(pressed.body).toEqual({ ok: true, result: { answer: { text: "Тест запущен" } } });
  });

  test("session: a gramjs StringSession for a phone, the same user each time", async () => {
    const a = await control("GET", "session?phone=%2B79990000009");
    expect(a.body.result.session).toBeString();
    expect(a.body.result.session.length).toBeGreaterThan(100);
    const b = await control("POST", "session", { phone: "+7 999 000 00 09" });
    expect(b.body.result.user_id).toBe(a.body.result.user_id);
    expect(sb.sessionFor("+79990000009").userId).toBe(a.body.result.user_id);
  });

  test("clear errors", async () => {
    expect(await control("POST", "send", { user_id: 1, bot: BOT, text: "x" })).toEqual({
      status: 404,
      body: { ok: false, error: "no user 1 in the sandbox (create one: POST /sandbox/users)" },
    });
    const user = sb.world.createUser();
    expect((await control("POST", "send", { user_id: user.id, bot: "nobody_bot", text: "x" })).body.error).toContain("no bot nobody_bot");
    expect((await control("POST", "press", { user_id: user.id, bot: BOT, label: "nothing" })).status).toBe(404);
    expect((await control("GET", "nope")).status).toBe(404);
    expect((await control("GET", "session")).body.error).toContain("phone is required");
  });
});

describe("cli", () => {
  test("new-user, send, history, press, block", async () => {
    const made = await cli("new-user", "--name", "Boris", "--phone", "+79990000002", "--json");
    expect(made.code).toBe(0);
    const id = String(JSON.parse(made.out).id);
    // send and press also show what the bot replied meanwhile
    const sent = await cli("send", "--user", id, "--bot", BOT, "/start");
    expect(sent).toMatchObject({ code: 0, out: "#1 user: /start\n#2 bot : Меню\n    buttons: [🧪 Тест]\n" });
    await waitForHistory(Number(id), 2);
    const history = await cli("history", "--user", "+79990000002", "--bot", BOT);
    expect(history.out).toBe("#1 user: /start\n#2 bot : Меню\n    buttons: [🧪 Тест]\n");
    const pressed = await cli("press", "--user", id, "--bot", BOT, "🧪 Тест");
    expect(pressed).toMatchObject({ code: 0 });
    expect(pressed.out).toBe("answer: Тест запущен\n(no reply from the bot within 300 ms)\n");
    expect((await cli("block", "--user", id, "--bot", BOT)).code).toBe(0);
    expect(sb.world.users.get(Number(id))!.blocked.has(Number(TOKEN.split(":")[0]))).toBe(true);
  }, 15_000);

  test("session prints a warning that it is a secret", async () => {
    const r = await cli("session", "--phone", "+79990000010");
    expect(r.code).toBe(0);
    expect(r.err).toContain("secret");
    expect(r.out).toMatch(/^user \d+\n\S{100,}\n$/);
  }, 15_000);

  test("usage on bad arguments, a clear message without a sandbox", async () => {
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toContain("usage: bun sandbox/cli.ts");
    const missing = await cli("send", "/start");
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("send: --user is required");
    const p = Bun.spawn(["bun", "sandbox/cli.ts", "health", "--url", "http://127.0.0.1:1"], { cwd: `${import.meta.dir}/../..`, stderr: "pipe" });
    expect(await p.exited).toBe(1);
    expect(await new Response(p.stderr).text()).toContain("no sandbox at http://127.0.0.1:1");
  }, 15_000);
});

describe("bun run sandbox", () => {
  const root = `${import.meta.dir}/../..`;
  const env = { ...process.env, SANDBOX_BOT_API_PORT: "0", SANDBOX_MTPROTO_PORT: "0" };

  test("--rate-limit telegram limits the bot's sends from the command line; SIGTERM stops it", async () => {
    const p = Bun.spawn(["bun", "sandbox/main.ts", "--rate-limit", "telegram"], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
    try {
      const reader = p.stdout.getReader();
      let out = "";
      while (!out.includes("Press Ctrl+C")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the sandbox exited: ${out}`);
        out += new TextDecoder().decode(value);
      }
      reader.releaseLock();
      expect(out).toContain("rate limit telegram");
      const url = /Bot API\s+(http:\/\/\S+?)\/bot/.exec(out)![1]!;
      const token = "7200000009:cli-rate-limit";
      const call = async (method: string, body: object) =>
        (await fetch(`${url}/bot${token}/${method}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).status;
      await call("getMe", {});
      const user = (await (await fetch(`${url}/sandbox/users`, { method: "POST", body: new URLSearchParams({ first_name: "Li" }) })).json()) as { result: { id: number } };
      await fetch(`${url}/sandbox/send`, { method: "POST", body: new URLSearchParams({ user_id: String(user.result.id), bot: "7200000009", text: "hi" }) });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await call("sendMessage", { chat_id: user.result.id, text: `#${i}` }));
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      p.kill("SIGTERM");
    }
    expect(await p.exited).toBe(0);
  }, 15_000);

  test("an unknown --rate-limit is refused with the usage", async () => {
    const p = Bun.spawn(["bun", "sandbox/main.ts", "--rate-limit", "fast"], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toContain('--rate-limit takes "telegram" or "off", got "fast"');
  }, 15_000);
});
