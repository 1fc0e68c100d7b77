// The sandbox's half of logging in, as Telegram does it: creating an auth key by Diffie-Hellman
// key exchange (core.telegram.org/mtproto/auth_key) with the sandbox's own RSA key, then binding
// the key to a user with auth.sendCode / auth.signIn and the fixed code SANDBOX_LOGIN_CODE.
// TL objects, AES-IGE, the nonce-derived keys and the big-number arithmetic are gramjs's own, so
// both ends compute the key the same way.
// The sandbox's RSA key is in mtproto-rsa.ts.

import "./gramjs-prelude.ts";
import { constants, createHash, type KeyObject, privateDecrypt, randomBytes } from "node:crypto";
import { Api } from "telegram";
import { AuthKey } from "telegram/crypto/AuthKey";
import { IGE } from "telegram/crypto/IGE";
import { BinaryReader } from "telegram/extensions";
import { generateKeyDataFromNonce, getByteArray, modExp, readBigIntFromBuffer, returnBigInt, toSignedLittleBuffer } from "telegram/Helpers";
import { SANDBOX_LOGIN_CODE } from "./defaults.ts";
import { apiSelf, type ApiConn, type ApiServer, RpcFail, type TlResult } from "./mtproto-api.ts";
import type { SandboxRsaKey } from "./mtproto-rsa.ts";
import { normalisePhone } from "./world.ts";

type BigInteger = ReturnType<typeof returnBigInt>;

// ---- Diffie-Hellman parameters ----

/** Telegram's 2048-bit safe prime (the dh_prime its servers send), with g = 3. */
export const DH_PRIME = Buffer.from(
  "C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DB" +
    "FA336F6E0AC925139543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64" +
    "2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B41" +
    "0DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4" +
    "E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF" +
    "6F4FADF034B10403119CD8E3B92FCC5B",
  "hex",
);
export const DH_G = 3;

/** pq = p * q for the proof of work, the example from Telegram's documentation (p < q, both prime). */
const P = 0x494c553bn;
const Q = 0x53911073n;
const PQ = P * Q;

const be = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
};
const sha1 = (b: Uint8Array) => createHash("sha1").update(b).digest();
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const eq = (a: unknown, b: unknown) => String(a) === String(b);

/** Something in the key exchange was wrong: Telegram closes the connection. */
export class HandshakeError extends Error {}

/** One connection's key exchange, between resPQ and dh_gen_ok. */
export interface Handshake {
  nonce?: BigInteger;
  serverNonce?: BigInteger;
  newNonce?: BigInteger;
  a?: BigInteger;
  tmp?: { key: Buffer; iv: Buffer };
}

/** A key made by the exchange: registered by the server, bound to no user yet. */
export interface NewAuthKey {
  key: Buffer;
  /** The first server salt: substr(new_nonce, 0, 8) XOR substr(server_nonce, 0, 8). */
  salt: bigint;
}

/**
 * Answers one unencrypted message (req_pq_multi, req_DH_params, set_client_DH_params). Returns the
 * reply's TL bytes, and the new auth key after dh_gen_ok. Throws HandshakeError on anything bad.
 */
export async function keyExchangeStep(
  hs: Handshake,
  req: unknown,
  rsa: () => SandboxRsaKey,
  nowSec: () => number,
): Promise<{ reply: Buffer; authKey?: NewAuthKey }> {
  if (req instanceof Api.ReqPqMulti || req instanceof Api.ReqPq) {
    hs.nonce = req.nonce;
    hs.serverNonce = readBigIntFromBuffer(randomBytes(16), true, true);
    hs.newNonce = hs.a = hs.tmp = undefined;
    const fp = returnBigInt(BigInt(rsa().fingerprint));
    return { reply: new Api.ResPQ({ nonce: hs.nonce, serverNonce: hs.serverNonce, pq: be(PQ), serverPublicKeyFingerprints: [fp] }).getBytes() };
  }

  if (req instanceof Api.ReqDHParams) {
    if (!hs.nonce || !eq(req.nonce, hs.nonce) || !eq(req.serverNonce, hs.serverNonce)) throw new HandshakeError("req_DH_params: nonce mismatch");
    const key = rsa();
    if (!eq(req.publicKeyFingerprint, key.fingerprint)) throw new HandshakeError("req_DH_params: unknown key fingerprint");
    const inner = decryptInnerData(key.privateKey, Buffer.from(req.encryptedData));
    if (!(inner instanceof Api.PQInnerData || inner instanceof Api.PQInnerDataDc || inner instanceof Api.PQInnerDataTemp || inner instanceof Api.PQInnerDataTempDc)) {
      throw new HandshakeError("req_DH_params: no p_q_inner_data");
    }
    if (!eq(inner.nonce, hs.nonce) || !eq(inner.serverNonce, hs.serverNonce)) throw new HandshakeError("p_q_inner_data: nonce mismatch");
    const p = BigInt(`0x${Buffer.from(req.p).toString("hex")}`);
    const q = BigInt(`0x${Buffer.from(req.q).toString("hex")}`);
    if (p !== P || q !== Q) throw new HandshakeError("req_DH_params: wrong factors of pq");
    hs.newNonce = inner.newNonce;
    hs.a = readBigIntFromBuffer(randomBytes(256), false, false);
    const prime = readBigIntFromBuffer(DH_PRIME, false, false);
    const gA = modExp(returnBigInt(DH_G), hs.a, prime);
    const answer = new Api.ServerDHInnerData({
      nonce: hs.nonce,
      serverNonce: hs.serverNonce!,
      g: DH_G,
      dhPrime: DH_PRIME,
      gA: getByteArray(gA),
      serverTime: nowSec(),
    }).getBytes();
    hs.tmp = await generateKeyDataFromNonce(hs.serverNonce!, hs.newNonce);
    // answer_with_hash = SHA1(answer) + answer + padding; IGE pads to 16 bytes itself.
    const encryptedAnswer = new IGE(hs.tmp.key, hs.tmp.iv).encryptIge(Buffer.concat([sha1(answer), answer]));
    return { reply: new Api.ServerDHParamsOk({ nonce: hs.nonce, serverNonce: hs.serverNonce!, encryptedAnswer }).getBytes() };
  }

  if (req instanceof Api.SetClientDHParams) {
    if (!hs.tmp || !hs.a || !hs.newNonce || !eq(req.nonce, hs.nonce) || !eq(req.serverNonce, hs.serverNonce)) {
      throw new HandshakeError("set_client_DH_params out of order");
    }
    const plain = new IGE(hs.tmp.key, hs.tmp.iv).decryptIge(Buffer.from(req.encryptedData));
    const inner = new BinaryReader(plain.subarray(20)).tgReadObject();
    if (!(inner instanceof Api.ClientDHInnerData)) throw new HandshakeError("set_client_DH_params: no client_DH_inner_data");
    if (!sha1(inner.getBytes()).equals(plain.subarray(0, 20))) throw new HandshakeError("client_DH_inner_data: bad hash");
    if (!eq(inner.nonce, hs.nonce) || !eq(inner.serverNonce, hs.serverNonce)) throw new HandshakeError("client_DH_inner_data: nonce mismatch");
    const prime = readBigIntFromBuffer(DH_PRIME, false, false);
    const gB = readBigIntFromBuffer(Buffer.from(inner.gB), false, false);
    if (gB.lesserOrEquals(1) || gB.greaterOrEquals(prime.minus(1))) throw new HandshakeError("g_b out of range");
    // The key's bytes exactly as gramjs takes them (getByteArray: no leading zero bytes).
    const key = getByteArray(modExp(gB, hs.a, prime));
    const authKey = new AuthKey();
    await authKey.setKey(key);
    const newNonceHash1 = await authKey.calcNewNonceHash(hs.newNonce, 1);
    const salt = toSignedLittleBuffer(hs.newNonce, 32).readBigInt64LE(0) ^ toSignedLittleBuffer(hs.serverNonce!, 16).readBigInt64LE(0);
    const reply = new Api.DhGenOk({ nonce: hs.nonce!, serverNonce: hs.serverNonce!, newNonceHash1 }).getBytes();
    hs.nonce = hs.serverNonce = hs.newNonce = hs.a = hs.tmp = undefined;
    return { reply, authKey: { key, salt } };
  }

  throw new HandshakeError(`unexpected unencrypted message ${(req as { className?: string } | null)?.className ?? "?"}`);
}

/**
 * p_q_inner_data from req_DH_params, in either RSA encoding Telegram accepts: RSA_PAD (gramjs,
 * mtcute) or the older RSA(SHA1(data) + data + padding) (Telethon v1, Pyrogram). Each is
 * recognised by its own hash, so a wrong guess cannot pass.
 */
function decryptInnerData(privateKey: KeyObject, encrypted: Buffer): unknown {
  if (encrypted.length > 256) throw new HandshakeError("encrypted_data is longer than 256 bytes");
  let m: Buffer;
  try {
    // The older scheme may send fewer than 256 bytes (leading zeros dropped).
    m = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(256 - encrypted.length), encrypted]));
  } catch {
    throw new HandshakeError("encrypted_data does not decrypt");
  }
  const inner = fromRsaPad(m) ?? fromSha1Padded(m);
  if (inner === undefined) throw new HandshakeError("encrypted_data: bad hash (neither RSA_PAD nor SHA1-padded)");
  return inner;
}

/**
 * RSA_PAD, the server side (see gramjs's network/Authenticator.js):
 * m = temp_key_xor + AES-IGE(data_pad_reversed + SHA256(temp_key + data_with_padding), temp_key, iv 0).
 */
function fromRsaPad(m: Buffer): unknown {
  const tempKeyXor = m.subarray(0, 32);
  const aesEncrypted = m.subarray(32);
  const h = sha256(aesEncrypted);
  const tempKey = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) tempKey[i] = tempKeyXor[i]! ^ h[i]!;
  const dataWithHash = new IGE(tempKey, Buffer.alloc(32)).decryptIge(aesEncrypted);
  const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
  if (!sha256(tempKey, dataWithPadding).equals(dataWithHash.subarray(192, 224))) return undefined;
  return new BinaryReader(dataWithPadding).tgReadObject();
}

/** The older encoding: m = 0x00 + SHA1(data) + data + random padding (255 bytes under RSA). */
function fromSha1Padded(m: Buffer): unknown {
  if (m[0] !== 0) return undefined;
  let inner: { getBytes(): Buffer };
  try {
    inner = new BinaryReader(m.subarray(21)).tgReadObject();
  } catch {
    return undefined;
  }
  return sha1(inner.getBytes()).equals(m.subarray(1, 21)) ? inner : undefined;
}

// ---- signing in ----

/** What the sign-in methods may do to the connection's auth key. */
export interface LoginContext {
  api: ApiServer;
  conn: ApiConn;
  /** Binds the connection's auth key (and so every connection using it) to this user. */
  bindUser(userId: number): void;
}

type AuthHandler = (ctx: LoginContext, req: any) => TlResult;

/** Methods a key bound to no user may call (Telegram answers 401 AUTH_KEY_UNREGISTERED to others). */
export const UNREGISTERED_OK = new Set(["help.GetConfig", "help.GetNearestDc"]);

const CODE_TTL_S = 600;

/** auth.sendCode / auth.signIn with the fixed code; any phone number, its user created on first sign-in. */
export class PhoneLogin {
  /** phone_code_hash → the phone it was sent to */
  private readonly codes = new Map<string, { phone: string; expires: number }>();

  readonly handlers: Record<string, AuthHandler> = {
    "auth.SendCode": (ctx, r: Api.auth.SendCode) => this.sendCode(ctx, r.phoneNumber),
    "auth.ResendCode": (ctx, r: Api.auth.ResendCode) => {
      this.sent(r.phoneNumber, r.phoneCodeHash, ctx.api.nowSec());
      return this.sendCode(ctx, r.phoneNumber);
    },
    "auth.CancelCode": (ctx, r: Api.auth.CancelCode) => {
      this.sent(r.phoneNumber, r.phoneCodeHash, ctx.api.nowSec());
      this.codes.delete(r.phoneCodeHash);
      return true;
    },
    "auth.SignIn": (ctx, r: Api.auth.SignIn) => this.signIn(ctx, r),
  };

  private sendCode(ctx: LoginContext, phone: string): Api.auth.SentCode {
    const digits = phone.replace(/[\s()+-]/g, "");
    if (!/^\d{5,15}$/.test(digits)) throw new RpcFail(400, "PHONE_NUMBER_INVALID");
    const now = ctx.api.nowSec();
    for (const [h, c] of this.codes) if (c.expires < now) this.codes.delete(h);
    const phoneCodeHash = randomBytes(9).toString("hex");
    this.codes.set(phoneCodeHash, { phone: normalisePhone(digits), expires: now + CODE_TTL_S });
    return new Api.auth.SentCode({
      type: new Api.auth.SentCodeTypeApp({ length: SANDBOX_LOGIN_CODE.length }),
      phoneCodeHash,
      timeout: 60,
    });
  }

  /** The phone the code with this hash went to; Telegram's errors for a missing or stale hash. */
  private sent(phone: string, hash: string | undefined, now: number): string {
    if (!hash) throw new RpcFail(400, "PHONE_CODE_HASH_EMPTY");
    const c = this.codes.get(hash);
    if (!c || c.expires < now) throw new RpcFail(400, "PHONE_CODE_EXPIRED");
    if (c.phone !== normalisePhone(phone)) throw new RpcFail(400, "PHONE_NUMBER_INVALID");
    return c.phone;
  }

  private signIn(ctx: LoginContext, r: Api.auth.SignIn): Api.auth.Authorization {
    const phone = this.sent(r.phoneNumber, r.phoneCodeHash, ctx.api.nowSec());
    if (!r.phoneCode) throw new RpcFail(400, "PHONE_CODE_EMPTY");
    if (r.phoneCode.trim() !== SANDBOX_LOGIN_CODE) throw new RpcFail(400, "PHONE_CODE_INVALID");
    this.codes.delete(r.phoneCodeHash);
    const user = ctx.api.world.userForPhone(phone);
    ctx.bindUser(user.id);
    return new Api.auth.Authorization({ user: apiSelf(ctx.api, user) });
  }
}
