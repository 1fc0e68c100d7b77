// Telethon (Python, layer 144 in Debian's python3-telethon 1.25.1, TCP-full, the older SHA1-padded
// RSA encoding) against the sandbox, unmodified: test/helpers/telethon-flow.py logs in with the
// sandbox's code, /starts a gramio bot, gets the keyboard, presses, sees the edit, then catches up
// on a message sent while it was offline. Skipped when Telethon is not installed:
//   apt-get install -y python3-telethon

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { SANDBOX_LOGIN_CODE } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { CONFORMANCE, startConformanceBot } from "../helpers/conformance-bot.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const PYTHON = "/usr/bin/python3"; // Debian's, where apt installs Telethon
const hasTelethon = Bun.spawnSync([PYTHON, "-c", "import telethon"], { stderr: "ignore" }).exitCode === 0;
if (!hasTelethon) console.warn("conformance-telethon: skipped, Telethon is not installed (apt-get install -y python3-telethon)");

const PHONE = "+79990004144";
const MISSED = "while you were away";

describe.skipIf(!hasTelethon)("Telethon against the sandbox", () => {
  let sb: Sandbox;
  let bot: Awaited<ReturnType<typeof startConformanceBot>>;
  let steps: Map<string, Record<string, unknown>>;
  let stderr = "";
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  beforeAll(async () => {
    sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
    bot = await startConformanceBot(sb, "7000000144:conformance-telethon");
    proc = Bun.spawn([PYTHON, `${import.meta.dir}/../helpers/telethon-flow.py`], {
      env: {
        ...process.env,
        SANDBOX_RSA_PEM: sb.rsaPublicKey().pem,
        SANDBOX_MTPROTO_HOST: sb.mtprotoHost,
        SANDBOX_MTPROTO_PORT: String(sb.mtprotoPort),
        PHONE,
        LOGIN_CODE: SANDBOX_LOGIN_CODE,
        BOT: bot.username,
        MENU: CONFORMANCE.menu,
        MISSED,
      },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const errText = new Response(proc.stderr as ReadableStream).text();
    steps = new Map();
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += decoder.decode(chunk);
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith("{")) continue;
        const step = JSON.parse(line) as { step: string };
        steps.set(step.step, step);
        if (step.step === "offline") {
          await bot.send(sb.world.userByPhone(PHONE)!.id, MISSED);
          const stdin = proc.stdin as import("bun").FileSink;
          stdin.write("go\n");
          stdin.flush();
        }
      }
    }
    await proc.exited;
    stderr = await errText;
  }, 60_000);

  afterAll(async () => {
    proc?.kill(); // if a step hung, the script must not outlive the test
    await bot?.stop();
    await sb?.stop();
  });

  const step = (name: string) => {
    const s = steps.get(name);
    if (!s) throw new Error(`Telethon did not reach "${name}"; its stderr:\n${stderr.slice(-3000)}`);
    return s;
  };

  test("logs in with the sandbox's code (older RSA encoding, layer 144)", () => {
    expect(step("login").id).toBe(sb.world.userByPhone(PHONE)!.id);
    expect(step("login").layer).toBe(144);
  });

  test("/start to the bot; its inline keyboard arrives", () => {
    expect(step("keyboard")).toEqual({ step: "keyboard", text: CONFORMANCE.menu, buttons: [[CONFORMANCE.button]] });
  });

  test("pressing the button gets the bot's answer; the edit arrives", () => {
    expect(step("press").answer).toBe(CONFORMANCE.answer);
    expect(step("edit").text).toBe(CONFORMANCE.edited);
  });

  test("after being offline, catch_up() delivers the message it missed", () => {
    expect(step("caught_up").text).toBe(MISSED);
  });
});
