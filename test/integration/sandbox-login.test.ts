// The real login path against the sandbox: an unmodified gramjs TelegramClient with an empty
// session creates an auth key by DH key exchange with the sandbox's own RSA key, then signs in
// with auth.sendCode / auth.signIn and the sandbox's fixed code.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Api, TelegramClient } from "telegram";
import { _serverKeys } from "telegram/crypto/RSA";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { connectClient, PortSafeStringSession, sessionAddress, socketDialing, trustServerKey } from "../../lib/client/gramjs/connect.ts";
import { encodeSession } from "../../sandbox/gramjs-session.ts";
import { rsaFingerprint, rsaPublicParts } from "../../sandbox/mtproto-rsa.ts";
import { SANDBOX_API_CREDENTIALS, SANDBOX_LOGIN_CODE } from "../../sandbox/defaults.ts";
import { connectSandboxClient } from "../helpers/gramjs.ts";
import { DH_PRIME } from "../../sandbox/mtproto-auth.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

const BOT_TOKEN = "7000000077:login-test";
const BOT_NAME = "login_test_bot";
const API = SANDBOX_API_CREDENTIALS;

let sb: Sandbox;
const clients: TelegramClient[] = [];

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [{ token: BOT_TOKEN, username: BOT_NAME }] });
  const res = await fetch(`${sb.controlUrl}/rsa`);
  expect(res.status).toBe(200);
  trustServerKey(await res.text());
});

afterAll(async () => {
  for (const c of clients) await c.destroy().catch(() => {});
  await sb.stop();
});

/** A TelegramClient with an empty session, pointed at the sandbox's MTProto port. */
function freshClient(): TelegramClient {
  const session = new PortSafeStringSession("");
  session.setDC(2, sb.mtprotoHost, sb.mtprotoPort);
  const c = new TelegramClient(session, API.apiId, API.apiHash, {
    connectionRetries: 1,
    timeout: 5,
    floodSleepThreshold: 0,
    networkSocket: socketDialing(sb.mtprotoHost, sb.mtprotoPort),
    baseLogger: new Logger(LogLevel.NONE),
  });
  c.setLogLevel(LogLevel.NONE);
  clients.push(c);
  return c;
}

function authParams(phone: string, code: () => string, errors: string[] = []) {
  return {
    phoneNumber: phone,
    phoneCode: async () => code(),
    onError: async (e: Error) => {
      errors.push((e as { errorMessage?: string }).errorMessage ?? e.message);
      return errors.length >= 3;
    },
  };
}

describe("the sandbox's RSA key", () => {
  test("the fingerprint is computed as for Telegram's keys that gramjs ships", () => {
    // gramjs's built-in keys are stored by fingerprint: recompute them from n and e.
    const builtIn = [..._serverKeys].filter(([fp]) => fp === "-3414540481677951611" || fp === "-5595554452916591101");
    expect(builtIn.length).toBe(2);
    for (const [fp, k] of builtIn) {
      expect(rsaFingerprint(Buffer.from(k.n.toString(16).padStart(512, "0"), "hex"), k.e)).toBe(fp);
    }
  });

  test("GET /sandbox/rsa is a 2048-bit PKCS#1 public key, trusted by gramjs once registered", async () => {
    const pem = await (await fetch(`${sb.controlUrl}/rsa`)).text();
    expect(pem).toStartWith("-----BEGIN RSA PUBLIC KEY-----");
    expect(pem).not.toContain("PRIVATE");
    const { n, e } = rsaPublicParts(pem);
    expect(n.length).toBe(256);
    expect(e).toBe(65537);
    expect(_serverKeys.has(rsaFingerprint(n, e))).toBe(true);
    expect(sb.rsaPublicKey().pem).toBe(pem);
  });

  test("dh_prime is Telegram's 2048-bit safe prime", () => {
    expect(DH_PRIME.length).toBe(256);
    const p = BigInt(`0x${DH_PRIME.toString("hex")}`);
    expect(require("node:crypto").checkPrimeSync(DH_PRIME)).toBe(true);
    const q = (p - 1n) / 2n;
    expect(require("node:crypto").checkPrimeSync(Buffer.from(q.toString(16), "hex"))).toBe(true);
  });
});

describe("login through key exchange and auth.signIn", () => {
  test("an empty session gets a key, signs in with the fixed code, and works as the user", async () => {
    const c = freshClient();
    const errors: string[] = [];
    const t0 = performance.now();
    await c.start(authParams("+7 999 555-00-01", () => SANDBOX_LOGIN_CODE, errors));
    expect(errors).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(3000);

    const me = await c.getMe();
    const user = sb.world.userByPhone("+79995550001")!;
    expect(user).toBeDefined();
    expect(String(me.id)).toBe(String(user.id));
    expect(me.phone).toBe("79995550001");

    // The new key is the user's now: a message to a bot reaches the world.
    await c.sendMessage(BOT_NAME, { message: "/start" });
    const bot = sb.world.botByUsername(BOT_NAME)!;
    expect(bot.updates.some((u) => u.kind === "message" && u.message.text === "/start" && u.message.userId === user.id)).toBe(true);

    // And the session saved from it connects again, without key exchange.
    const saved = c.session.save() as unknown as string;
    expect(saved).toBe(encodeSession({ dcId: 2, host: sb.mtprotoHost, port: sb.mtprotoPort }, c.session.getAuthKey()!.getKey()!));
    expect(sessionAddress(saved).port).toBe(sb.mtprotoPort);
    const again = await connectSandboxClient(saved);
    clients.push(again);
    expect(String((await again.getMe()).id)).toBe(String(user.id));
  });

  test("the same phone signs in as the same user", async () => {
    const a = sb.world.userForPhone("+79995550002");
    const c = freshClient();
    await c.start(authParams("79995550002", () => SANDBOX_LOGIN_CODE));
    expect(String((await c.getMe()).id)).toBe(String(a.id));
  });

  test("a wrong code surfaces PHONE_CODE_INVALID, and the right one then works", async () => {
    const c = freshClient();
    const codes = ["11111", SANDBOX_LOGIN_CODE];
    const errors: string[] = [];
    await c.start(authParams("+79995550003", () => codes.shift()!, errors));
    expect(errors).toEqual(["PHONE_CODE_INVALID"]);
    expect((await c.getMe()).phone).toBe("79995550003");
  });

  test("a wrong code from auth.signIn itself is a 400 PHONE_CODE_INVALID RPC error", async () => {
    const c = freshClient();
    await c.connect();
    const sent = (await c.invoke(
      new Api.auth.SendCode({ phoneNumber: "+79995550004", apiId: API.apiId, apiHash: API.apiHash, settings: new Api.CodeSettings({}) }),
    )) as Api.auth.SentCode;
    expect(typeof sent.phoneCodeHash).toBe("string");
    const err = await c
      .invoke(new Api.auth.SignIn({ phoneNumber: "+79995550004", phoneCodeHash: sent.phoneCodeHash, phoneCode: "54321" }))
      .catch((e) => e);
    expect(err.code).toBe(400);
    expect(err.errorMessage).toBe("PHONE_CODE_INVALID");
    expect(sb.world.userByPhone("+79995550004")).toBeUndefined();
  });

  test("before sign-in, requests other than the login ones answer 401 AUTH_KEY_UNREGISTERED", async () => {
    const c = freshClient();
    await c.connect(); // key exchange + initConnection/help.getConfig: allowed
    const err = await c.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] })).catch((e) => e);
    expect(err.code).toBe(401);
    expect(err.errorMessage).toBe("AUTH_KEY_UNREGISTERED");
    expect(await c.checkAuthorization()).toBe(false);
    const cfg = await c.invoke(new Api.help.GetConfig());
    expect(cfg.thisDc).toBe(2);
  });

  test("the preset-key sessions still work alongside", async () => {
    const { session, userId } = sb.sessionFor("+79995550009");
    const c = await connectSandboxClient(session);
    clients.push(c);
    expect(String((await c.getMe()).id)).toBe(String(userId));
  });
});
