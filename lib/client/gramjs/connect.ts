// How our code connects through gramjs, to real Telegram or to the sandbox. gramjs internals used
// here (pinned, see prelude.ts): `_serverKeys` (to trust the sandbox's RSA key), the raw socket's
// first frame (-404: unknown auth key) and a StringSession that saves any port. The client dials
// the host AND port stored in the session (gramjs itself always dials 80/443), gets every
// FLOOD_WAIT (floodSleepThreshold 0) and keeps gramjs quiet.

import "./prelude.ts";
import { createHash, createPublicKey } from "node:crypto";
import { TelegramClient } from "telegram";
import { _serverKeys } from "telegram/crypto/RSA";
import { returnBigInt } from "telegram/Helpers";
import { PromisedNetSockets } from "telegram/extensions";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { StringSession } from "telegram/sessions";
import { serializeBytes } from "telegram/tl/generationHelpers";

export interface SessionAddress {
  dcId: number;
  host: string;
  port: number;
}

/** gramjs reads a StringSession's port as a signed 16-bit number (negative above 32767); we read it unsigned. */
export function sessionAddress(session: string): SessionAddress {
  if (!session.startsWith("1")) throw new Error("not a gramjs StringSession (expected version 1)");
  const buf = Buffer.from(session.slice(1), "base64");
  if (buf.length < 1 + 2 + 4 + 2) throw new Error("gramjs StringSession is too short");
  const dcId = buf.readUInt8(0);
  if (session.length - 1 === 352) {
    // Telethon layout: a raw 4-byte IPv4 address, no length prefix (gramjs accepts it too).
    return { dcId, host: [...buf.subarray(1, 5)].join("."), port: buf.readUInt16BE(5) };
  }
  const len = buf.readUInt16BE(1);
  const host = buf.subarray(3, 3 + len).toString();
  const port = buf.readUInt16BE(3 + len);
  return { dcId, host, port };
}

/** The auth_key_id of a StringSession's key: the lower 64 bits of SHA1(auth_key), as servers see it. */
export function sessionAuthKeyId(session: string): bigint {
  const { host } = sessionAddress(session);
  const buf = Buffer.from(session.slice(1), "base64");
  const key = session.length - 1 === 352 ? buf.subarray(7) : buf.subarray(3 + Buffer.byteLength(host) + 2);
  if (key.length < 128) throw new Error("gramjs StringSession holds no auth key");
  return createHash("sha1").update(key).digest().readBigUInt64LE(12);
}

/** Encodes a gramjs StringSession (the same layout gramjs's StringSession.save() writes). */
export function encodeSession(a: SessionAddress, authKey: Uint8Array): string {
  const addr = Buffer.from(a.host);
  const head = Buffer.alloc(1 + 2);
  head.writeUInt8(a.dcId, 0);
  head.writeUInt16BE(addr.length, 1);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(a.port, 0);
  return "1" + Buffer.concat([head, addr, port, Buffer.from(authKey)]).toString("base64");
}

/**
 * A StringSession that saves ports above 32767: gramjs's own save() writes the port as a signed
 * 16-bit number and throws for them (the sandbox's ephemeral ports), even from inside connect().
 */
export class PortSafeStringSession extends StringSession {
  override save(): string {
    const key = this.authKey?.getKey();
    if (!key || !this.serverAddress || !this.port) return "";
    return encodeSession({ dcId: this.dcId, host: this.serverAddress, port: this.port }, key);
  }
}

/**
 * A gramjs socket class that dials `port` whenever gramjs asks for `host` (on any port).
 * `onUnknownKey` fires when the server's first frame is the -404 "unknown auth key" answer, which
 * gramjs itself only turns into a silent wait.
 */
export function socketDialing(host: string, port: number, onUnknownKey?: () => void): typeof PromisedNetSockets {
  return class SessionPortSocket extends PromisedNetSockets {
    override connect(gramjsPort: number, ip: string): Promise<unknown> {
      return super.connect(ip === host ? port : gramjsPort, ip);
    }

    override async receive(): Promise<void> {
      await super.receive();
      const raw = (this as unknown as { client?: { once(ev: "data", f: (b: Buffer) => void): void } }).client;
      if (onUnknownKey) {
        raw?.once("data", (b) => {
          // TCP-full frame: len 16, seq, int32 -404, crc32
          if (b.length >= 16 && b.readInt32LE(0) === 16 && b.readInt32LE(8) === -404) onUnknownKey();
        });
      }
    }
  };
}

/** The lower 64 bits of SHA1(rsa_public_key n:bytes e:bytes) as a signed decimal: the key of gramjs's `_serverKeys` map. */
export function rsaFingerprint(n: Uint8Array, e: number | bigint): string {
  const eHex = BigInt(e).toString(16);
  const eBytes = Buffer.from(eHex.length % 2 ? `0${eHex}` : eHex, "hex");
  const sha = createHash("sha1")
    .update(serializeBytes(Buffer.from(n)))
    .update(serializeBytes(eBytes))
    .digest();
  return sha.readBigInt64LE(12).toString();
}

export function rsaPublicParts(pem: string): { n: Buffer; e: number } {
  const jwk = createPublicKey(pem).export({ format: "jwk" });
  if (jwk.kty !== "RSA" || !jwk.n || !jwk.e) throw new Error("not an RSA public key");
  return { n: Buffer.from(jwk.n, "base64url"), e: Number(BigInt("0x" + Buffer.from(jwk.e, "base64url").toString("hex"))) };
}

/** Makes gramjs trust the sandbox's RSA key for key exchange (gramjs only knows Telegram's). */
export function trustServerKey(pem: string): string {
  const { n, e } = rsaPublicParts(pem);
  const fingerprint = rsaFingerprint(n, e);
  _serverKeys.set(fingerprint, { n: returnBigInt(BigInt(`0x${n.toString("hex")}`)), e });
  return fingerprint;
}

interface ConnectOptions {
  apiId: number;
  apiHash: string;
  connectionRetries?: number;
  /** per attempt */
  timeoutSec?: number;
}

export function quietClient(session: StringSession, opts: ConnectOptions, networkSocket?: typeof PromisedNetSockets): TelegramClient {
  const client = new TelegramClient(session, opts.apiId, opts.apiHash, {
    connectionRetries: opts.connectionRetries ?? 3,
    timeout: opts.timeoutSec ?? 10,
    floodSleepThreshold: 0,
    baseLogger: new Logger(LogLevel.NONE),
    ...(networkSocket ? { networkSocket } : {}),
  });
  client.setLogLevel(LogLevel.NONE);
  return client;
}

export async function connectClient(session: string, opts: ConnectOptions): Promise<TelegramClient> {
  const addr = sessionAddress(session);
  const where = `Telegram at ${addr.host}:${addr.port} (dc ${addr.dcId})`;
  const retries = opts.connectionRetries ?? 3;
  const timeoutSec = opts.timeoutSec ?? 10;
  // A server that does not know the auth key answers -404; gramjs then only marks the connection
  // broken and waits for its first reply forever, so our socket class reports it to us.
  const failed = Promise.withResolvers<never>();
  const unknownKey = () =>
    failed.reject(new Error(`${where} does not know this session's auth key (a sandbox forgets its sessions when it restarts): get a new session`));
  const client = quietClient(new StringSession(session), opts, socketDialing(addr.host, addr.port, unknownKey));
  const waitSec = timeoutSec * (retries + 1);
  const timer = setTimeout(() => failed.reject(new Error(`no answer from ${where} within ${waitSec} s`)), waitSec * 1000);
  let ok: boolean | undefined;
  try {
    ok = await Promise.race([client.connect(), failed.promise]);
  } catch (e) {
    await client.destroy().catch(() => {});
    throw e instanceof Error && e.message.includes(where) ? e : new Error(`cannot connect to ${where}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (ok === false) {
    await client.destroy().catch(() => {});
    throw new Error(`cannot connect to ${where} after ${retries} attempts: is it (or the sandbox: bun run sandbox) running?`);
  }
  return client;
}

export type { TelegramClient };
