// --login: interactive login (phone, code, 2FA password), to real Telegram or, the same way, to
// the sandbox: there gramjs creates an auth key by key exchange with the sandbox's RSA key and
// signs in with the sandbox's fixed code (sandbox-login.ts). The code and the password are read
// without echo and never logged; the session is saved 0600 (see session-store.ts).
//
// gramjs's sign-in asks again after every error that onError does not stop, and it turns a
// failed code prompt into "Code is empty": so when the input ends (EOF, Ctrl+D, Ctrl+C) the
// prompts record it and onError stops the login, which then fails with one clear message.

import "./gramjs/prelude.ts";
import { createInterface } from "node:readline";
import { TelegramClient } from "telegram";
import type { UserAuthParams } from "telegram/client/auth";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { StringSession } from "telegram/sessions";
import type { ClientConfig } from "./config.ts";
import { PortSafeStringSession, socketDialing } from "./gramjs/connect.ts";
import { apiCredentials, sandboxPhone } from "./connect.ts";
import { prepareSandboxLogin } from "./sandbox.ts";
import { writeSession } from "./session-store.ts";

/** The input ended (EOF, Ctrl+D) or was interrupted (Ctrl+C) before an answer was typed. */
export class InputClosedError extends Error {
  constructor(readonly question: string, interrupted = false) {
    super(interrupted ? "input interrupted" : "input closed");
    this.name = "InputClosedError";
  }
}

export interface Prompter {
  /** Print the question and read one line; `hidden`: the typed text is not echoed. */
  ask(question: string, hidden?: boolean): Promise<string>;
  close(): void;
}

type Input = NodeJS.ReadableStream & { isTTY?: boolean };
type Output = NodeJS.WritableStream;

/**
 * One line reader for a whole login, so lines piped in together are not lost between questions.
 * On a terminal, hidden questions swallow the echo of what is typed.
 */
export function createPrompter(input: Input = process.stdin, output: Output = process.stdout): Prompter {
  const terminal = Boolean(input.isTTY);
  const rl = createInterface({ input, output: terminal ? output : undefined, terminal });
  const lines: string[] = [];
  let closed: InputClosedError | undefined;
  let waiter: { question: string; resolve: (line: string) => void; reject: (e: Error) => void } | undefined;
  let muted: string | undefined; // the hidden question being answered

  if (terminal) {
    const r = rl as unknown as { _writeToOutput: (s: string) => void };
    r._writeToOutput = (s: string) => {
      if (muted === undefined) output.write(s);
      else if (s.includes(muted)) output.write(muted); // a repaint of the prompt: show the question only
    };
  }
  rl.on("line", (line) => {
    const w = waiter;
    waiter = undefined;
    if (w) w.resolve(line);
    else lines.push(line);
  });
  const end = (interrupted: boolean) => {
    const w = waiter;
    waiter = undefined;
    closed ??= new InputClosedError(w?.question ?? "", interrupted);
    if (w) w.reject(new InputClosedError(w.question, interrupted));
  };
  rl.on("SIGINT", () => {
    end(true);
    rl.close();
  });
  rl.on("close", () => end(false));

  return {
    ask(question, hidden = false) {
      return new Promise<string>((resolve, reject) => {
        if (waiter) return reject(new Error("one question at a time"));
        output.write(question);
        const finish = () => {
          if (hidden) output.write("\n");
          muted = undefined;
        };
        const queued = lines.shift();
        if (queued !== undefined) {
          finish();
          return resolve(queued.trim());
        }
        if (closed) {
          finish();
          return reject(new InputClosedError(question, closed.message === "input interrupted"));
        }
        if (hidden) muted = question;
        rl.setPrompt(question);
        waiter = {
          question,
          resolve: (line) => {
            finish();
            resolve(line.trim());
          },
          reject: (e) => {
            finish();
            reject(e);
          },
        };
      });
    },
    close() {
      rl.close();
    },
  };
}

/** Ask one question on its own line reader (closed afterwards). */
export async function ask(question: string, hidden = false, input?: Input, output?: Output): Promise<string> {
  const p = createPrompter(input, output);
  try {
    return await p.ask(question, hidden);
  } finally {
    p.close();
  }
}

// RPC errors after which asking again cannot help.
const FATAL = /FLOOD|PHONE_NUMBER_INVALID|PHONE_NUMBER_BANNED|PHONE_CODE_EXPIRED|API_ID_INVALID|API_ID_PUBLISHED_FLOOD|AUTH_RESTART/;
/** Wrong codes, passwords or numbers typed in a row before the login gives up. */
export const MAX_LOGIN_ERRORS = 5;

/**
 * gramjs's callbacks for client.start(). `cancelled()` says why the login stopped on its own
 * (input ended, too many errors), for the message the user sees.
 */
export function loginParams(
  cfg: ClientConfig,
  out: (line: string) => void,
  prompter: Prompter,
  sandbox?: { loginCode?: string },
): { params: UserAuthParams; cancelled: () => string | undefined } {
  let cancelled: string | undefined;
  let errors = 0;
  const prompt = async (what: string, question: string, hidden = false): Promise<string> => {
    try {
      return await prompter.ask(question, hidden);
    } catch (e) {
      if (e instanceof InputClosedError) {
        cancelled ??= `${e.message === "input interrupted" ? "interrupted" : "the input ended"} before the ${what} was entered`;
      }
      throw e;
    }
  };
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
      if (FATAL.test(e.message)) {
        cancelled = `Telegram refused it: ${e.message}`;
        return true;
      }
      if (++errors >= MAX_LOGIN_ERRORS) {
        cancelled = `${errors} failed attempts in a row`;
        return true;
      }
      return false;
    },
  };
  return { params, cancelled: () => cancelled };
}

export async function login(cfg: ClientConfig, out: (line: string) => void, prompter: Prompter = createPrompter()): Promise<void> {
  let client: TelegramClient;
  let sandbox: { loginCode?: string } | undefined;
  if (cfg.usesSandbox) {
    let target;
    try {
      target = await prepareSandboxLogin(cfg.sandbox.url);
    } catch (e) {
      prompter.close();
      throw e;
    }
    sandbox = target;
    // An empty session whose DC is the sandbox: gramjs creates the auth key there.
    const session = new PortSafeStringSession("");
    session.setDC(2, target.host, target.port);
    const { apiId, apiHash } = apiCredentials(cfg);
    client = new TelegramClient(session, apiId, apiHash, {
      connectionRetries: 3,
      timeout: cfg.performance.connectionTimeoutS,
      floodSleepThreshold: 0,
      networkSocket: socketDialing(target.host, target.port),
      baseLogger: new Logger(LogLevel.NONE),
    });
    out(`logging in to the sandbox at ${cfg.sandbox.url} as ${sandboxPhone(cfg)}`);
  } else {
    client = new TelegramClient(new StringSession(""), cfg.telegram.apiId, cfg.telegram.apiHash, {
      connectionRetries: 3,
      floodSleepThreshold: 0,
      baseLogger: new Logger(LogLevel.NONE),
    });
  }
  client.setLogLevel(LogLevel.NONE);
  const { params, cancelled } = loginParams(cfg, out, prompter, sandbox);
  try {
    try {
      await client.start(params);
    } catch (e) {
      const why = cancelled();
      if (why) throw new Error(`login cancelled: ${why}; no session was saved. Run \`bun client.ts --login\` in a terminal to try again`);
      throw e;
    }
    const session = client.session.save() as unknown as string;
    writeSession(cfg.session.path, session);
    if (sandbox) {
      const me = await client.getMe();
      out(`✓ logged in to the sandbox as user ${me.id}; session saved to ${cfg.session.path} (mode 0600), good until the sandbox restarts`);
    } else {
      out(`✓ logged in; session saved to ${cfg.session.path} (mode 0600)`);
    }
  } finally {
    prompter.close();
    await client.destroy().catch(() => {});
  }
}
