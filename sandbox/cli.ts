// Act as a person in a running sandbox from the command line, through its /sandbox endpoints:
//   bun sandbox/cli.ts send --user 1000001 --bot aprel_booking_bot /start
//   bun sandbox/cli.ts press --user 1000001 "🧪 Тест"

import { parseArgs } from "node:util";
import { SANDBOX_BOT_USERNAME, sandboxUrlFromEnv } from "./defaults.ts";

const USAGE = `usage: bun sandbox/cli.ts <command> [options]

commands:
  new-user --name NAME [--phone +7...] [--username NAME]   create a person
  send     --user U [--bot B] TEXT                         write TEXT to the bot; shows the reply
  press    --user U [--bot B] LABEL                        press the newest button whose label contains LABEL; shows the reply
  history  --user U [--bot B]                              show the chat
  block    --user U [--bot B] | unblock ...                the user blocks (unblocks) the bot
  session  --phone +7...                                   a gramjs session for the MTProto front (a secret!)
  health                                                   is the sandbox up?

  U is a user id, @username or +phone; B a bot username or id (default ${SANDBOX_BOT_USERNAME}).
  --url URL chooses the sandbox (default $SANDBOX_URL, else http://127.0.0.1:$SANDBOX_BOT_API_PORT, port 8081 when unset).`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      user: { type: "string" },
      bot: { type: "string" },
      name: { type: "string" },
      phone: { type: "string" },
      username: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (e) {
  fail(`${(e as Error).message}\n\n${USAGE}`);
}
const { values: o, positionals } = parsed;
const [command, ...rest] = positionals;
if (o.help || !command) fail(USAGE, o.help ? 0 : 2);
const base = (o.url ?? sandboxUrlFromEnv()).replace(/\/+$/, "");
const text = rest.join(" ");
/** How long `send` and `press` wait to show what the bot replied. */
const REPLY_WAIT_MS = 300;

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === "") fail(`${command}: ${what} is required\n\n${USAGE}`);
  return v;
}

async function call(method: "GET" | "POST", path: string, params: Record<string, string | boolean | undefined>): Promise<unknown> {
  const body: Record<string, string | boolean> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body[k] = v;
  const url = `${base}/sandbox/${path}`;
  let res: Response;
  try {
    res =
      method === "GET"
        ? await fetch(`${url}?${new URLSearchParams(body as Record<string, string>)}`)
        : await fetch(url, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    fail(`no sandbox at ${base}: start one with \`bun run sandbox\`, or pass --url`, 1);
  }
  const data = (await res.json().catch(() => null)) as { ok: boolean; result?: unknown; error?: string } | null;
  if (!data?.ok) fail(`${command}: ${data?.error ?? `HTTP ${res.status}`}`, 1);
  return data.result;
}

interface MessageView {
  id: number;
  from_bot: boolean;
  text: string;
  edit_date?: number;
  buttons?: { text: string; callback_data?: string }[];
  keyboard?: string[];
}

function show(m: MessageView): string {
  const who = m.from_bot ? "bot " : "user";
  const lines = [`#${m.id} ${who}${m.edit_date ? " (edited)" : ""}: ${m.text}`];
  if (m.buttons) lines.push(`    buttons: ${m.buttons.map((b) => `[${b.text}]`).join(" ")}`);
  if (m.keyboard) lines.push(`    keyboard: ${m.keyboard.map((b) => `[${b}]`).join(" ")}`);
  return lines.join("\n");
}

const print = (v: unknown, human: () => string) => console.log(o.json ? JSON.stringify(v, null, 2) : human());
const who = () => ({ user_id: need(o.user, "--user"), bot: o.bot });

/** What the bot said after an action: its messages that are new, or edited, since `before`. */
async function botReplies(before: MessageView[]): Promise<string> {
  await Bun.sleep(REPLY_WAIT_MS);
  const seen = new Map(before.map((m) => [m.id, m.edit_date]));
  const after = (await call("GET", "history", who())) as MessageView[];
  const fresh = after.filter((m) => m.from_bot && (!seen.has(m.id) || seen.get(m.id) !== m.edit_date));
  return fresh.length ? `\n${fresh.map(show).join("\n")}` : `\n(no reply from the bot within ${REPLY_WAIT_MS} ms)`;
}
const historyNow = async () => (o.json ? [] : ((await call("GET", "history", who())) as MessageView[]));

switch (command) {
  case "health": {
    const r = await call("GET", "health", {});
    print(r, () => JSON.stringify(r));
    break;
  }
  case "new-user": {
    const r = (await call("POST", "users", { first_name: o.name, phone: o.phone, username: o.username })) as { id: number };
    print(r, () => `created user ${r.id}: ${JSON.stringify(r)}`);
    break;
  }
  case "send": {
    const before = await historyNow();
    const r = (await call("POST", "send", { ...who(), text: need(text || undefined, "the text to send") })) as MessageView;
    const replies = o.json ? "" : await botReplies(before);
    print(r, () => show(r) + replies);
    break;
  }
  case "press": {
    const before = await historyNow();
    const r = (await call("POST", "press", { ...who(), label: need(text || undefined, "the button label") })) as {
      answer: { text?: string; show_alert?: boolean; timeout?: boolean };
    };
    const a = r.answer;
    const replies = o.json ? "" : await botReplies(before);
    print(r, () => (a.timeout ? "the bot did not answer the button press in time" : `answer: ${a.text ?? "(no text)"}${a.show_alert ? " (alert)" : ""}`) + replies);
    break;
  }
  case "history": {
    const r = (await call("GET", "history", who())) as MessageView[];
    print(r, () => (r.length ? r.map(show).join("\n") : "(no messages)"));
    break;
  }
  case "block":
  case "unblock": {
    const r = await call("POST", "block", { ...who(), blocked: command === "block" });
    print(r, () => `user ${o.user} ${command}ed the bot`);
    break;
  }
  case "session": {
    const r = (await call("POST", "session", { phone: need(o.phone, "--phone"), first_name: o.name })) as { user_id: number; session: string };
    console.error("warning: this session is a secret key to the account: keep it out of logs and repositories");
    print(r, () => `user ${r.user_id}\n${r.session}`);
    break;
  }
  default:
    fail(`unknown command "${command}"\n\n${USAGE}`);
}
