// The session file, a key to the user's whole Telegram account: written 0600, read back only if
// nobody else can read it, never logged. Its folder is kept 0700 when it is the session's own (one
// writeSession creates, or an existing `sessions/`); any other folder is left as it is ("client.session"
// must not chmod the current directory), and one that others may write to (without the sticky bit
// /tmp has) is refused, since they could replace the key.

import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
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
    // New folders (dir and any missing parents) belong to the session: 0700 whatever the umask.
    const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, 0o700);
      if (!first || d === resolve(first) || d === dirname(d)) break;
    }
  } else {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new SessionFileError(`cannot save the session: ${dirname(path)} is not a folder (check session.path)`);
    const ownDedicated = basename(dir) === "sessions" && typeof process.getuid === "function" && st.uid === process.getuid();
    if (ownDedicated) chmodSync(dir, 0o700);
    else if (st.mode & 0o022 && !(st.mode & 0o1000)) {
      throw new SessionFileError(
        `refusing to save the session in ${dirname(path)}: other users can write to that folder (mode ${(st.mode & 0o777).toString(8)}) and could replace the key; ` +
          `set session.path to a private folder (e.g. "sessions/client.session") or run \`chmod go-w ${dirname(path)}\``,
      );
    }
  }
  // Write to a private temp file (created exclusively, never through an existing file or link)
  // and rename, so a crash never leaves a half-written or world-readable key.
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, "wx", 0o600);
    created = true;
    chmodSync(tmp, 0o600);
    writeSync(fd, session + "\n");
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (created) rmSync(tmp, { force: true });
    throw e;
  }
}
