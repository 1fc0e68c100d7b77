// --login, to real Telegram or the same way to the sandbox (its RSA key, its fixed code). gramjs's
// sign-in asks again after every error onError does not stop and turns a failed prompt into "Code
// is empty", so the prompts record an ended input (EOF, Ctrl+C) and onError stops the login.

import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import type { UserAuthParams } from "telegram/client/auth";
import type { ClientConfig } from "./config.ts";
import { PortSafeStringSession, quietClient, socketDialing } from "./gramjs/connect.ts";
import { apiCredentials, prepareSandboxLogin, sandboxPhone } from "./connect.ts";
import { writeSession } from "./session-store.ts";

/** The input ended (EOF, Ctrl+D) or was interrupted (Ctrl+C) before an answer was typed. */
export class InputClosedError extends Error {}

/** One line reader for a whole login, so lines piped in together are not lost between questions. */
export function createPrompter(input: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin, output: NodeJS.WritableStream = process.stdout) {
  const terminal = Boolean(input.isTTY);
  let muted = false;
  // On a terminal readline echoes what is typed through its output: muted while a hidden answer is typed.
  const echo = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input, output: terminal ? echo : undefined, terminal });
  const lines = rl[Symbol.asyncIterator]();
  let interrupted = false;
  rl.on("SIGINT", () => {
    interrupted = true;
    rl.close();
  });
  return {
    async ask(question: string, hidden = false): Promise<string> {
      output.write(question);
      muted = hidden && terminal;
      try {
        const line = await lines.next();
        if (line.done) throw new InputClosedError(interrupted ? "interrupted" : "the input ended");
        return line.value.trim();
      } finally {
        muted = false;
        if (hidden) output.write("\n");
      }
    },
    close: () => rl.close(),
  };
}

// RPC errors after which asking again cannot help.
const FATAL = /FLOOD|PHONE_NUMBER_INVALID|PHONE_NUMBER_BANNED|PHONE_CODE_EXPIRED|API_ID_INVALID|API_ID_PUBLISHED_FLOOD|AUTH_RESTART/;
/** Wrong codes, passwords or numbers typed in a row before the login gives up. */
export const MAX_LOGIN_ERRORS = 5;

/** gramjs's callbacks for client.start(); `cancelled()` says why the login stopped on its own. */
export function loginParams(
  cfg: ClientConfig,
  out: (line: string) => void,
  prompter: ReturnType<typeof createPrompter>,
  sandbox?: { loginCode?: string },
): { params: UserAuthParams; cancelled: () => string | undefined } {
  let cancelled: string | undefined;
  let errors = 0;
  const prompt = (what: string, question: string, hidden = false) =>
    prompter.ask(question, hidden).catch((e: unknown) => {
      if (e instanceof InputClosedError) cancelled ??= `${e.message} before the ${what} was entered`;
      throw e;
    });
  const params: UserAuthParams = {
    phoneNumber: async () =>
      sandbox ? sandboxPhone(cfg) : cfg.telegram.phone || (await prompt("phone number", "Phone number (international format, e.g. +79991234567): ")),
    phoneCode: async () =>
      prompt(
        "login code",
        sandbox ? `Login code (the sandbox's is ${sandbox.loginCode ?? "12345"}) (not shown): ` : "Login code from Telegram (not shown): ",
        true,
      ),
    password: async (hint) => prompt("two-step verification password", `Two-step verification password${hint ? ` (hint: ${hint})` : ""} (not shown): `, true),
    // true stops the login (gramjs then throws AUTH_USER_CANCEL); false asks again.
    onError: async (e) => {
      if (cancelled || e instanceof InputClosedError || /AUTH_USER_CANCEL/.test(e.message)) return true;
      const message = /Code is empty/.test(e.message) ? "no code entered; type the code Telegram sent you (Ctrl+D to cancel)" : e.message;
      out(`login: ${message}`);
      if (FATAL.test(e.message)) cancelled = `Telegram refused it: ${e.message}`;
      else if (++errors >= MAX_LOGIN_ERRORS) cancelled = `${errors} failed attempts in a row`;
      return cancelled !== undefined;
    },
  };
  return { params, cancelled: () => cancelled };
}

export async function login(cfg: ClientConfig, out: (line: string) => void): Promise<void> {
  const sandbox = cfg.usesSandbox ? await prepareSandboxLogin(cfg.sandbox.url) : undefined;
  // In the sandbox: an empty session whose DC is the sandbox, where gramjs creates the auth key.
  const session = new PortSafeStringSession("");
  if (sandbox) session.setDC(2, sandbox.host, sandbox.port);
  const opts = { ...apiCredentials(cfg), timeoutSec: cfg.performance.connection_timeout };
  const client = quietClient(session, opts, sandbox && socketDialing(sandbox.host, sandbox.port));
  if (sandbox) out(`logging in to the sandbox at ${cfg.sandbox.url} as ${sandboxPhone(cfg)}`);
  const prompter = createPrompter();
  const { params, cancelled } = loginParams(cfg, out, prompter, sandbox);
  try {
    await client.start(params).catch((e: unknown) => {
      const why = cancelled();
      throw why ? new Error(`login cancelled: ${why}; no session was saved. Run \`bun client.ts --login\` in a terminal to try again`) : e;
    });
    writeSession(cfg.session.path, client.session.save() as unknown as string);
    const where = sandbox ? ` to the sandbox as user ${(await client.getMe()).id}` : "";
    out(`✓ logged in${where}; session saved to ${cfg.session.path} (mode 0600)${sandbox ? ", good until the sandbox restarts" : ""}`);
  } finally {
    prompter.close();
    await client.destroy().catch(() => {});
  }
}
