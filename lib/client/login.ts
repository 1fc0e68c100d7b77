// --login: interactive login to real Telegram (phone, code, 2FA password). The code and the
// password are read without echo and never logged; the session is saved 0600 in a 0700 folder.

import "../gramjs-prelude.ts";
import { createInterface } from "node:readline";
import { TelegramClient } from "telegram";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { StringSession } from "telegram/sessions";
import type { ClientConfig } from "../client-config.ts";
import { writeSession } from "./session-store.ts";

export function ask(question: string, hidden = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY) });
    if (hidden) {
      // Print the question, swallow the echo of what is typed.
      const r = rl as unknown as { _writeToOutput?: (s: string) => void };
      r._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stdout.write(question);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stdout.write("\n");
      resolve(answer.trim());
    });
    rl.once("close", () => reject(new Error("input closed")));
  });
}

export async function login(cfg: ClientConfig, out: (line: string) => void): Promise<void> {
  const client = new TelegramClient(new StringSession(""), cfg.telegram.apiId, cfg.telegram.apiHash, {
    connectionRetries: 3,
    floodSleepThreshold: 0,
    baseLogger: new Logger(LogLevel.NONE),
  });
  client.setLogLevel(LogLevel.NONE);
  try {
    await client.start({
      phoneNumber: async () => cfg.telegram.phone || (await ask("Phone number (international format, e.g. +79991234567): ")),
      phoneCode: async () => ask("Login code from Telegram (not shown): ", true),
      password: async (hint) => ask(`Two-step verification password${hint ? ` (hint: ${hint})` : ""} (not shown): `, true),
      // true stops the login: a FLOOD_WAIT will not pass by asking again.
      onError: async (e) => {
        out(`login: ${e.message}`);
        return /FLOOD|PHONE_NUMBER_INVALID|API_ID_INVALID/.test(e.message);
      },
    });
    const session = client.session.save() as unknown as string;
    writeSession(cfg.session.path, session);
    out(`✓ logged in; session saved to ${cfg.session.path} (mode 0600)`);
  } finally {
    await client.destroy().catch(() => {});
  }
}
