// The session file store: a session is a key to the whole Telegram account.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSession, SessionFileError, writeSession } from "../../lib/client/session-store.ts";

const mode = (p: string) => statSync(p).mode & 0o777;

let root: string;
const cwd = process.cwd();
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "aprel-session-"));
  chmodSync(root, 0o755);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(root, { recursive: true, force: true });
});

describe("writeSession", () => {
  test("the file is 0600 and reads back", () => {
    const path = join(root, "sessions", "client.session");
    writeSession(path, "1AbC");
    expect(mode(path)).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe("1AbC\n");
    expect(readSession(path)).toBe("1AbC");
  });

  test("a new folder (and new parents) are 0700 whatever the umask", () => {
    const old = process.umask(0o022);
    try {
      const path = join(root, "a", "b", "client.session");
      writeSession(path, "s");
      expect(mode(join(root, "a"))).toBe(0o700);
      expect(mode(join(root, "a", "b"))).toBe(0o700);
      expect(mode(root)).toBe(0o755); // the folder that existed is left alone
    } finally {
      process.umask(old);
    }
  });

  test("session.path 'client.session' does not chmod the current directory", () => {
    process.chdir(root);
    writeSession("client.session", "s");
    expect(mode(root)).toBe(0o755);
    expect(mode(join(root, "client.session"))).toBe(0o600);
  });

  test("an existing ordinary folder keeps its mode; an existing 'sessions' folder is tightened to 0700", () => {
    const plain = join(root, "project");
    const sessions = join(root, "sessions");
    mkdirSync(plain, { mode: 0o755 });
    mkdirSync(sessions, { mode: 0o755 });
    chmodSync(plain, 0o755);
    chmodSync(sessions, 0o755);
    writeSession(join(plain, "x.session"), "s");
    writeSession(join(sessions, "x.session"), "s");
    expect(mode(plain)).toBe(0o755);
    expect(mode(sessions)).toBe(0o700);
  });

  test("refuses a folder that other users can write to, with a hint", () => {
    const shared = join(root, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const path = join(shared, "x.session");
    expect(() => writeSession(path, "s")).toThrow(SessionFileError);
    expect(() => writeSession(path, "s")).toThrow(/other users can write to that folder \(mode 777\).*session\.path.*chmod go-w/);
    expect(existsSync(path)).toBe(false);
    expect(mode(shared)).toBe(0o777);
  });

  test("a world-writable folder with the sticky bit (like /tmp) is accepted", () => {
    const sticky = join(root, "tmp");
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    writeSession(join(sticky, "x.session"), "s");
    expect(mode(join(sticky, "x.session"))).toBe(0o600);
  });

  test("atomic: replaces an old session in one rename and leaves no temp file", () => {
    const dir = join(root, "sessions");
    const path = join(dir, "client.session");
    writeSession(path, "old");
    writeSession(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new\n");
    expect(readdirSync(dir)).toEqual(["client.session"]);
  });

  test("never writes through a planted temp file or link", () => {
    const dir = join(root, "sessions");
    mkdirSync(dir, { mode: 0o700 });
    const victim = join(root, "victim");
    writeFileSync(victim, "untouched");
    const path = join(dir, "client.session");
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    expect(() => writeSession(path, "secret")).toThrow(/EEXIST|exists/);
    expect(readFileSync(victim, "utf8")).toBe("untouched");
    expect(existsSync(path)).toBe(false);
  });
});

describe("readSession", () => {
  test("absent or empty: undefined", () => {
    expect(readSession(join(root, "nope.session"))).toBeUndefined();
    const empty = join(root, "empty.session");
    writeFileSync(empty, "\n", { mode: 0o600 });
    chmodSync(empty, 0o600);
    expect(readSession(empty)).toBeUndefined();
  });

  for (const m of [0o640, 0o604, 0o644]) {
    test(`refuses a session file with mode ${m.toString(8)}, with the fix`, () => {
      const path = join(root, "client.session");
      writeFileSync(path, "s\n");
      chmodSync(path, m);
      expect(() => readSession(path)).toThrow(SessionFileError);
      expect(() => readSession(path)).toThrow(`session file ${path} is readable by other users (mode ${m.toString(8)}): run \`chmod 600 ${path}\` or log in again`);
    });
  }
});
