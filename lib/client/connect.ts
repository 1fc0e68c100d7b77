// Where the client's session comes from and how it connects: the sandbox hands out a fresh
// session every run (its sessions die with it); real Telegram needs the file --login saved.

import "../gramjs-prelude.ts";
import type { TelegramClient } from "telegram";
import type { ClientConfig } from "../client-config.ts";
import { connectClient } from "../gramjs.ts";
import { readSession, sandboxSession, SessionFileError } from "./session-store.ts";

/** The sandbox account's phone when config.yaml names none. */
export const SANDBOX_DEFAULT_PHONE = "+79990000001";

export interface SessionInfo {
  session: string;
  /** known in the sandbox */
  userId?: number;
  /** for the first line of output, e.g. "sandbox at http://127.0.0.1:8081, a fresh session for +7999…" */
  describe: string;
}

export function sandboxPhone(cfg: ClientConfig): string {
  return cfg.telegram.phone || SANDBOX_DEFAULT_PHONE;
}

export async function obtainSession(cfg: ClientConfig): Promise<SessionInfo> {
  if (cfg.usesSandbox) {
    const phone = sandboxPhone(cfg);
    const s = await sandboxSession(cfg.sandbox.url, phone);
    return { ...s, describe: `sandbox at ${cfg.sandbox.url} (user ${s.userId}, phone ${phone})` };
  }
  const session = readSession(cfg.session.path);
  if (!session) {
    throw new SessionFileError(`no session at ${cfg.session.path}: log in first with \`bun client.ts --login${cfg.source !== "config.yaml" ? ` --config ${cfg.source}` : ""}\``);
  }
  return { session, describe: `Telegram, session ${cfg.session.path}` };
}

export function apiCredentials(cfg: ClientConfig): { apiId: number; apiHash: string } {
  // The sandbox checks no api_id/api_hash; gramjs only needs them to be present.
  return cfg.usesSandbox ? { apiId: 1, apiHash: "sandbox" } : { apiId: cfg.telegram.apiId, apiHash: cfg.telegram.apiHash };
}

export function openClient(cfg: ClientConfig, session: string): Promise<TelegramClient> {
  return connectClient(session, {
    ...apiCredentials(cfg),
    timeoutSec: cfg.performance.connectionTimeoutS,
    connectionRetries: Math.max(1, cfg.performance.maxRetries),
  });
}
