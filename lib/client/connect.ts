// Where the client's session comes from and how it connects. Real Telegram needs the file --login
// saved. In the sandbox that file is used while the sandbox still knows its key (sandboxes forget
// keys when they restart), otherwise the sandbox hands out a fresh session over HTTP.

import { Api, type TelegramClient } from "./gramjs/prelude.ts";
import { StringSession } from "telegram/sessions";
import type { ClientConfig } from "./config.ts";
import { connectClient, trustServerKey } from "./gramjs/connect.ts";
import { readSession, SessionFileError } from "./session-store.ts";

export function sandboxPhone(cfg: ClientConfig): string {
  return cfg.telegram.phone || "+79990000001";
}

/** The sandbox takes any api_id/api_hash: these placeholders. */
export function apiCredentials(cfg: ClientConfig): { apiId: number; apiHash: string } {
  return cfg.usesSandbox ? { apiId: 1, apiHash: "sandbox" } : { apiId: cfg.telegram.apiId, apiHash: cfg.telegram.apiHash };
}

/** The session, and where it is from (e.g. "sandbox at http://127.0.0.1:8081 (user 1, phone +79990000001)"). */
export async function obtainSession(cfg: ClientConfig): Promise<{ session: string; describe: string }> {
  if (!cfg.usesSandbox) {
    const session = readSession(cfg.session.path);
    if (!session) {
      throw new SessionFileError(`no session at ${cfg.session.path}: log in first with \`bun client.ts --login${cfg.source !== "config.yaml" ? ` --config ${cfg.source}` : ""}\``);
    }
    return { session, describe: `Telegram, session ${cfg.session.path}` };
  }
  const url = cfg.sandbox.url;
  const phone = sandboxPhone(cfg);
  const saved = await savedSandboxSession(url, cfg.session.path, phone);
  if (saved?.userId) {
    return { session: saved.session, describe: `sandbox at ${url} (user ${saved.userId}, phone ${phone}, session ${cfg.session.path})` };
  }
  const res = await sandboxGet(url, `/session?phone=${encodeURIComponent(phone)}`, "POST");
  const body = (await res.json().catch(() => ({}))) as { result?: { user_id?: number; session?: string }; error?: string };
  const r = body.result;
  if (!res.ok || !r?.session || typeof r.user_id !== "number") throw new SessionFileError(`the sandbox at ${url} refused a session: ${body.error ?? res.status}`);
  // A saved session the sandbox no longer knows (it restarted) is worth a word, not an error.
  const stale = saved ? `; ${cfg.session.path} is from an earlier sandbox run and was not used (\`--login\` again to rehearse the login)` : "";
  return { session: r.session, describe: `sandbox at ${url} (user ${r.user_id}, phone ${phone})${stale}` };
}

export function openClient(cfg: ClientConfig, session: string): Promise<TelegramClient> {
  return connectClient(session, {
    ...apiCredentials(cfg),
    timeoutSec: cfg.performance.connection_timeout,
    connectionRetries: Math.max(1, cfg.performance.max_retries),
  });
}

export async function resolveBot(tg: TelegramClient, username: string): Promise<Api.InputPeerUser> {
  const res = await tg.invoke(new Api.contacts.ResolveUsername({ username })).catch((e: { errorMessage?: string }) => {
    if (e.errorMessage === "USERNAME_NOT_OCCUPIED" || e.errorMessage === "USERNAME_INVALID") {
      throw new Error(`no bot @${username} on this Telegram server: check bot.username in the config (without @)`);
    }
    throw e;
  });
  const peer = res.peer;
  const user = peer instanceof Api.PeerUser ? res.users.find((u) => u instanceof Api.User && u.id.equals(peer.userId)) : undefined;
  if (!(user instanceof Api.User) || user.accessHash === undefined) {
    throw new Error(`@${username} is not a user or bot account: check bot.username in the config`);
  }
  return new Api.InputPeerUser({ userId: user.id, accessHash: user.accessHash });
}

function sandboxGet(sandboxUrl: string, path: string, method = "GET"): Promise<Response> {
  return fetch(`${sandboxUrl.replace(/\/+$/, "")}/sandbox${path}`, { method }).catch(() => {
    throw new SessionFileError(
      `no sandbox at ${sandboxUrl}: start one with \`bun run sandbox\` or \`bun bot.ts\` (without BOT_TOKEN), or set telegram.api_id/api_hash in config.yaml for real Telegram`,
    );
  });
}

/** The saved session, and its user if this sandbox still knows its key and it signed in as `phone`. Only its auth_key_id goes out. */
async function savedSandboxSession(sandboxUrl: string, path: string, phone: string): Promise<{ session: string; userId?: number } | undefined> {
  let session: string | undefined;
  let keyId: string | undefined;
  try {
    session = readSession(path);
    const s = new StringSession(session);
    await s.load();
    keyId = s.getAuthKey()?.keyId?.toString();
  } catch {
    // an unusable file or not a gramjs session: the sandbox can always mint another
  }
  if (!session) return undefined;
  if (!keyId) return { session };
  const res = await sandboxGet(sandboxUrl, `/auth-key?key_id=${keyId}`);
  const r = ((await res.json().catch(() => ({}))) as { result?: { known?: boolean; user_id?: number; phone?: string } }).result;
  const digits = (p: string) => p.replace(/\D/g, "");
  const samePhone = r?.phone === undefined || digits(r.phone) === digits(phone);
  return { session, userId: res.ok && r?.known && samePhone ? r.user_id : undefined };
}

/** Where the sandbox's MTProto front is, with gramjs made to trust the sandbox's RSA key for the key exchange. */
export async function prepareSandboxLogin(sandboxUrl: string): Promise<{ host: string; port: number; loginCode?: string }> {
  const health = await sandboxGet(sandboxUrl, "/health");
  const body = (await health.json().catch(() => ({}))) as { result?: { mtproto?: { host: string; port: number } | null; login_code?: string } };
  const mt = body.result?.mtproto;
  if (!health.ok || !mt) throw new SessionFileError(`the sandbox at ${sandboxUrl} has no MTProto front running`);
  const rsa = await sandboxGet(sandboxUrl, "/rsa");
  const pem = await rsa.text();
  if (!rsa.ok || !pem.includes("PUBLIC KEY")) {
    throw new SessionFileError(`the sandbox at ${sandboxUrl} offers no RSA key for logging in (GET /sandbox/rsa: ${rsa.status}); is it an older version?`);
  }
  trustServerKey(pem);
  return { host: mt.host, port: mt.port, loginCode: body.result?.login_code };
}
