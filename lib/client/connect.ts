// Where the client's session comes from and how it connects: real Telegram needs the file --login
// saved; in the sandbox that file is used while the sandbox still knows its key (sandboxes forget
// keys when they restart), otherwise the sandbox hands out a fresh session for the run.

import "./gramjs/prelude.ts";
import type { TelegramClient } from "telegram";
import type { ClientConfig } from "./config.ts";
import { connectClient } from "./gramjs/connect.ts";
import { SANDBOX_API, sandboxSession, savedSessionUser } from "./sandbox.ts";
import { readSession, SessionFileError } from "./session-store.ts";

/** The sandbox account's phone when config.yaml names none. */
export const SANDBOX_DEFAULT_PHONE = "+79990000001";

export interface SessionInfo {
  session: string;
  /** known in the sandbox */
  userId?: number;
  /** the session file that --login saved (always, with real Telegram) */
  saved?: boolean;
  /** sandbox: a session file exists but the sandbox no longer knows it, so a fresh one is used */
  staleSaved?: boolean;
  /** for the first line of output, e.g. "sandbox at http://127.0.0.1:8081, a fresh session for +7999…" */
  describe: string;
}

export function sandboxPhone(cfg: ClientConfig): string {
  return cfg.telegram.phone || SANDBOX_DEFAULT_PHONE;
}

export async function obtainSession(cfg: ClientConfig): Promise<SessionInfo> {
  if (cfg.usesSandbox) {
    const phone = sandboxPhone(cfg);
    const saved = savedSandboxSession(cfg);
    const savedUser = saved && (await savedSessionUser(cfg.sandbox.url, saved, phone));
    if (saved && savedUser) {
      return { session: saved, userId: savedUser, saved: true, describe: `sandbox at ${cfg.sandbox.url} (user ${savedUser}, phone ${phone}, session ${cfg.session.path})` };
    }
    const s = await sandboxSession(cfg.sandbox.url, phone);
    // A saved session the sandbox no longer knows (it restarted) is worth a word, not an error.
    const stale = saved ? `; ${cfg.session.path} is from an earlier sandbox run and was not used (\`--login\` again to rehearse the login)` : "";
    return { ...s, describe: `sandbox at ${cfg.sandbox.url} (user ${s.userId}, phone ${phone})${stale}`, ...(saved ? { staleSaved: true } : {}) };
  }
  const session = readSession(cfg.session.path);
  if (!session) {
    throw new SessionFileError(`no session at ${cfg.session.path}: log in first with \`bun client.ts --login${cfg.source !== "config.yaml" ? ` --config ${cfg.source}` : ""}\``);
  }
  return { session, saved: true, describe: `Telegram, session ${cfg.session.path}` };
}

/** The session file in sandbox mode, if there is a usable one (a sandbox can always mint another). */
function savedSandboxSession(cfg: ClientConfig): string | undefined {
  try {
    return readSession(cfg.session.path);
  } catch {
    return undefined;
  }
}

export function apiCredentials(cfg: ClientConfig): { apiId: number; apiHash: string } {
  return cfg.usesSandbox ? SANDBOX_API : { apiId: cfg.telegram.apiId, apiHash: cfg.telegram.apiHash };
}

export function openClient(cfg: ClientConfig, session: string): Promise<TelegramClient> {
  return connectClient(session, {
    ...apiCredentials(cfg),
    timeoutSec: cfg.performance.connectionTimeoutS,
    connectionRetries: Math.max(1, cfg.performance.maxRetries),
  });
}
