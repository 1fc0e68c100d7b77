// What the client asks the local sandbox, over its HTTP endpoints only (/sandbox/health, /session,
// /rsa, /auth-key): a session for a phone, where its MTProto front listens, which RSA key to trust
// for key exchange, and whether a saved session's auth key is still known there.

import { sessionAuthKeyId, trustServerKey } from "./gramjs/connect.ts";
import { SessionFileError } from "./session-store.ts";

/** The placeholder api_id/api_hash the sandbox accepts. */
export const SANDBOX_API = { apiId: 1, apiHash: "sandbox" } as const;

export interface SandboxLoginTarget {
  /** The sandbox's MTProto address (its session's DC). */
  host: string;
  port: number;
  /** The code the sandbox accepts, for the prompt (a public test value, not a secret). */
  loginCode?: string;
}

const digits = (phone: string) => phone.replace(/\D/g, "");

function base(url: string): string {
  return `${url.replace(/\/+$/, "")}/sandbox`;
}

async function get(sandboxUrl: string, path: string, method = "GET"): Promise<Response> {
  try {
    return await fetch(`${base(sandboxUrl)}${path}`, { method });
  } catch {
    throw new SessionFileError(
      `no sandbox at ${sandboxUrl}: start one with \`bun run sandbox\` or \`bun bot.ts\` (without BOT_TOKEN), or set telegram.api_id/api_hash in config.yaml for real Telegram`,
    );
  }
}

/**
 * Asks the sandbox where its MTProto front is and makes gramjs trust the sandbox's RSA key
 * (GET /sandbox/rsa), so that a client with an empty session can create an auth key there.
 */
export async function prepareSandboxLogin(sandboxUrl: string): Promise<SandboxLoginTarget> {
  const health = await get(sandboxUrl, "/health");
  const body = (await health.json().catch(() => ({}))) as { result?: { mtproto?: { host: string; port: number } | null; login_code?: string } };
  const mt = body.result?.mtproto;
  if (!health.ok || !mt) throw new SessionFileError(`the sandbox at ${sandboxUrl} has no MTProto front running`);
  const rsa = await get(sandboxUrl, "/rsa");
  const pem = await rsa.text();
  if (!rsa.ok || !pem.includes("PUBLIC KEY")) {
    throw new SessionFileError(`the sandbox at ${sandboxUrl} offers no RSA key for logging in (GET /sandbox/rsa: ${rsa.status}); is it an older version?`);
  }
  trustServerKey(pem);
  return { host: mt.host, port: mt.port, loginCode: body.result?.login_code };
}

/**
 * The user a saved session belongs to in this sandbox, if the sandbox still knows its auth key
 * and it signed in as `phone` (sandboxes forget keys when they restart). Only the auth_key_id,
 * which every MTProto message carries in the clear anyway, is sent.
 */
export async function savedSessionUser(sandboxUrl: string, session: string, phone: string): Promise<number | undefined> {
  let keyId: bigint;
  try {
    keyId = sessionAuthKeyId(session);
  } catch {
    return undefined; // not a gramjs session: not ours to judge here, a fresh one will do
  }
  const res = await get(sandboxUrl, `/auth-key?key_id=${keyId}`);
  const body = (await res.json().catch(() => ({}))) as { result?: { known?: boolean; user_id?: number; phone?: string } };
  const r = body.result;
  if (!res.ok || !r?.known || !r.user_id) return undefined;
  if (r.phone !== undefined && digits(r.phone) !== digits(phone)) return undefined;
  return r.user_id;
}

/** Ask a local sandbox for a session for this phone number (how a client "logs in" there). */
export async function sandboxSession(sandboxUrl: string, phone: string): Promise<{ userId: number; session: string }> {
  const res = await get(sandboxUrl, `/session?phone=${encodeURIComponent(phone)}`, "POST");
  // The control API answers { ok, result: { user_id, session } } or { ok: false, error }.
  const raw = (await res.json().catch(() => ({}))) as { result?: { user_id?: number; session?: string }; user_id?: number; session?: string; error?: string };
  const body = { ...raw, ...raw.result };
  if (!res.ok || !body.session || typeof body.user_id !== "number") {
    throw new SessionFileError(`the sandbox at ${sandboxUrl} refused a session: ${body.error ?? res.status}`);
  }
  return { userId: body.user_id, session: body.session };
}
