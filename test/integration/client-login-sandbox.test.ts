// `bun client.ts --login` in sandbox mode runs the same login as with Telegram: key exchange with
// the sandbox's RSA key, auth.sendCode, the code read from stdin, auth.signIn; the session file it
// saves (0600, folder 0700) is then what --check and the run modes use while the sandbox knows it.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionAddress } from "../../lib/client/gramjs/connect.ts";
import { SANDBOX_LOGIN_CODE } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const ROOT = join(import.meta.dir, "..", "..");
const CLIENT = join(ROOT, "client.ts");
const BOT = { token: "7000000088:login-cli", username: "login_cli_bot" };
const dirs: string[] = [];
const sandboxes: Sandbox[] = [];

afterAll(async () => {
  for (const sb of sandboxes) await sb.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function sandbox(): Promise<Sandbox> {
  const sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [BOT] });
  sandboxes.push(sb);
  return sb;
}

function workDir(url: string, phone: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), "aprel-login-"));
  dirs.push(dir);
  const config = join(dir, "client.yaml");
  writeFileSync(
    config,
    `telegram:\n  phone: "${phone}"\nbot:\n  username: "${BOT.username}"\ntargets:\n  - cities: ["Челябинск"]\n    priority: 1\nperformance:\n  connection_timeout: 3\nsandbox:\n  url: "${url}"\n`,
  );
  return { dir, config };
}

async function run(args: string[], cwd: string, stdin = ""): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["bun", CLIENT, ...args], { cwd, stdin: new Blob([stdin]), stdout: "pipe", stderr: "pipe", env: { ...process.env, LOG_DIR: join(cwd, "logs") } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: out + err };
}

// Each test has its own sandbox and folders; they wait on `bun client.ts`, so they run concurrently.
describe("bun client.ts --login against the sandbox", () => {
  test.concurrent("signs in with the code from stdin, saves a 0600 session that --check then uses", async () => {
    const sb = await sandbox();
    const phone = "+79990007001";
    const { dir, config } = workDir(sb.botApiUrl, phone);
    const login = await run(["--login", "--config", config], dir, `${SANDBOX_LOGIN_CODE}\n`);
    expect(login.out).toContain(`Login code (the sandbox's is ${SANDBOX_LOGIN_CODE})`);
    const user = sb.world.userByPhone(phone);
    expect(user).toBeDefined();
    expect(login.out).toContain(`✓ logged in to the sandbox as user ${user!.id}`);
    expect(login.code).toBe(0);

    const path = join(dir, "sessions", "client.session");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "sessions")).mode & 0o777).toBe(0o700);
    const session = readFileSync(path, "utf8").trim();
    expect(sessionAddress(session)).toEqual({ dcId: 2, host: sb.mtprotoHost, port: sb.mtprotoPort });
    expect(login.out).not.toContain(session);

    const check = await run(["--check", "--config", config], dir);
    expect(check.out).toMatch(new RegExp(`^✓ session: sandbox at \\S+ \\(user ${user!.id}, phone \\S+, session sessions/client.session\\)$`, "m"));
    expect(check.out).toMatch(/^✓ connection: /m);
    expect(check.out).toMatch(/^✓ bot: @login_cli_bot resolved/m);
    expect(check.code).toBe(0);
    expect(check.out).not.toContain(session);

    // A restarted sandbox (here: another one) does not know the key: a fresh session instead.
    const other = await sandbox();
    writeFileSync(config, readFileSync(config, "utf8").replace(sb.botApiUrl, other.botApiUrl));
    const again = await run(["--check", "--config", config], dir);
    expect(again.out).toMatch(/^✓ session: sandbox at \S+ \(user \d+, phone \S+\); sessions\/client.session is from an earlier sandbox run and was not used/m);
    expect(again.code).toBe(0);
  }, 30_000);

  test.concurrent("a wrong code is refused with PHONE_CODE_INVALID and asked again; no input left: no session", async () => {
    const sb = await sandbox();
    // Two independent logins, started together.
    const [w1, w2] = [workDir(sb.botApiUrl, "+79990007002"), workDir(sb.botApiUrl, "+79990007003")];
    const [retry, gaveUp] = await Promise.all([
      run(["--login", "--config", w1.config], w1.dir, `00000\n${SANDBOX_LOGIN_CODE}\n`),
      run(["--login", "--config", w2.config], w2.dir, "00000\n"),
    ]);
    expect(retry.out).toMatch(/^login: .*PHONE_CODE_INVALID/m);
    expect(retry.out).toContain("✓ logged in to the sandbox");
    expect(retry.code).toBe(0);

    expect(gaveUp.out).toMatch(/^login: .*PHONE_CODE_INVALID/m);
    expect(gaveUp.out).toContain("no session was saved");
    expect(gaveUp.code).toBe(1);
    expect(existsSync(join(w2.dir, "sessions", "client.session"))).toBe(false);
  }, 30_000);

  test.concurrent("no sandbox running: one clear error", async () => {
    const w = workDir("http://127.0.0.1:9", "+79990007004");
    const r = await run(["--login", "--config", w.config], w.dir, `${SANDBOX_LOGIN_CODE}\n`);
    expect(r.code).toBe(1);
    expect(r.out).toContain("error: no sandbox at http://127.0.0.1:9");
  });
});
