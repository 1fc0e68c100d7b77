// The client's session file: a key to the user's whole Telegram account.
// Written 0600 inside a 0700 folder, read back only if nobody else can read it; never logged.

import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from "node:fs";
import { dirname } from "node:path";

export class SessionFileError extends Error {}

export function readSession(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new SessionFileError(
      `session file ${path} is readable by other users (mode ${mode.toString(8)}): run \`chmod 600 ${path}\` or log in again`,
    );
  }
  const text = readFileSync(path, "utf8").trim();
  return text || undefined;
}

export function writeSession(path: string, session: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Write to a private temp file and rename, so a crash never leaves a half-written or world-readable key.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, session + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Ask a local sandbox for a session for this phone number (how a client "logs in" there). */
export async function sandboxSession(sandboxUrl: string, phone: string): Promise<{ userId: number; session: string }> {
  const url = `${sandboxUrl.replace(/\/$/, "")}/sandbox/session?phone=${encodeURIComponent(phone)}`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST" });
  } catch {
    throw new SessionFileError(
      `no sandbox at ${sandboxUrl}: start one with \`bun run sandbox\` or \`bun bot.ts\` (without BOT_TOKEN), or set telegram.api_id/api_hash in config.yaml for real Telegram`,
    );
  }
  // The control API answers { ok, result: { user_id, session } } or { ok: false, error }.
  const raw = (await res.json().catch(() => ({}))) as { result?: { user_id?: number; session?: string }; user_id?: number; session?: string; error?: string };
  const body = { ...raw, ...raw.result };
  if (!res.ok || !body.session || typeof body.user_id !== "number") {
    throw new SessionFileError(`the sandbox at ${sandboxUrl} refused a session: ${body.error ?? res.status}`);
  }
  return { userId: body.user_id, session: body.session };
}
