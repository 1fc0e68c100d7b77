// The session file, a key to the whole Telegram account: written 0600, read only if nobody else can
// read it. Its folder is kept 0700 when it is the session's own (new, or our `sessions/`); any other
// is left as it is ("client.session" must not chmod the current directory) unless others may write
// to it without the sticky bit /tmp has: refused, since they could replace the key.

import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";

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
  const dir = resolve(dirname(path));
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 }); // new folders belong to the session
  } else {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new SessionFileError(`cannot save the session: ${dirname(path)} is not a folder (check session.path)`);
    if (basename(dir) === "sessions" && st.uid === process.getuid?.()) chmodSync(dir, 0o700);
    else if (st.mode & 0o022 && !(st.mode & 0o1000)) {
      throw new SessionFileError(
        `refusing to save the session in ${dirname(path)}: other users can write to that folder (mode ${(st.mode & 0o777).toString(8)}) and could replace the key; ` +
          `set session.path to a private folder (e.g. "sessions/client.session") or run \`chmod go-w ${dirname(path)}\``,
      );
    }
  }
  // A private temp file, created exclusively (never through an existing file or link), then renamed:
  // a crash never leaves a half-written or world-readable key.
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    try {
      fchmodSync(fd, 0o600); // whatever the umask
      writeSync(fd, session + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
