// How our code connects through gramjs, to real Telegram or to the sandbox. The client dials the
// host AND port stored in the session (gramjs itself always dials 80/443), gets every FLOOD_WAIT
// (floodSleepThreshold 0) and keeps gramjs quiet. Internals used here are in the README's list.

import { createHash, createPublicKey } from "node:crypto";
import { TelegramClient } from "./prelude.ts";
import { _serverKeys } from "telegram/crypto/RSA";
import { returnBigInt } from "telegram/Helpers";
import { PromisedNetSockets } from "telegram/extensions";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { StringSession } from "telegram/sessions";
import { serializeBytes } from "telegram/tl/generationHelpers";

/** gramjs reads a session's port as a signed 16-bit number (negative above 32767); we read it unsigned. */
export function sessionAddress(session: string): { dcId: number; host: string; port: number } {
  const s = session.startsWith("1") ? new StringSession(session) : undefined;
  if (!s?.serverAddress || s.port === undefined) throw new Error("not a gramjs session string: log in again (bun client.ts --login)");
  return { dcId: s.dcId, host: s.serverAddress, port: s.port & 0xffff };
}

/** gramjs's own save() writes the port as a signed 16-bit number and throws above 32767 (the sandbox's ports), even inside connect(). */
export class PortSafeStringSession extends StringSession {
  override save(): string {
    const key = this.authKey?.getKey();
    if (!key || !this.serverAddress || !this.port) return "";
    const host = Buffer.from(this.serverAddress);
    const head = Buffer.alloc(1 + 2 + host.length + 2);
    head.writeUInt8(this.dcId, 0);
    head.writeUInt16BE(host.length, 1);
    host.copy(head, 3);
    head.writeUInt16BE(this.port, 3 + host.length);
    return "1" + Buffer.concat([head, key]).toString("base64");
  }
}

/** A gramjs socket class that dials `port` whenever gramjs asks for `host`; `onUnknownKey`: the first frame is -404. */
export function socketDialing(host: string, port: number, onUnknownKey?: () => void): typeof PromisedNetSockets {
  return class SessionPortSocket extends PromisedNetSockets {
    override connect(gramjsPort: number, ip: string): Promise<unknown> {
      return super.connect(ip === host ? port : gramjsPort, ip);
    }

    override async receive(): Promise<void> {
      await super.receive();
      const raw = (this as unknown as { client?: { once(ev: "data", f: (b: Buffer) => void): void } }).client;
      // TCP-full frame: len 16, seq, int32 -404, crc32
      raw?.once("data", (b) => {
        if (onUnknownKey && b.length >= 16 && b.readInt32LE(0) === 16 && b.readInt32LE(8) === -404) onUnknownKey();
      });
    }
  };
}

/** Makes gramjs trust an RSA key (the sandbox's) for the key exchange: gramjs only knows Telegram's. */
export function trustServerKey(pem: string): void {
  const jwk = createPublicKey(pem).export({ format: "jwk" });
  const n = Buffer.from(jwk.n!, "base64url");
  const e = Buffer.from(jwk.e!, "base64url");
  // `_serverKeys` is keyed by Telegram's fingerprint: the low 64 bits of SHA1(n:bytes e:bytes), signed decimal.
  const sha = createHash("sha1").update(serializeBytes(n)).update(serializeBytes(e)).digest();
  _serverKeys.set(sha.readBigInt64LE(12).toString(), { n: returnBigInt(BigInt(`0x${n.toString("hex")}`)), e: e.readUIntBE(0, e.length) });
}

type ConnectOptions = { apiId: number; apiHash: string; connectionRetries?: number; timeoutSec?: number };

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
  const waitSec = (opts.timeoutSec ?? 10) * (retries + 1);
  // A server that does not know the auth key answers -404; gramjs then only marks the connection
  // broken and waits for its first reply forever, so our socket class reports it to us.
  const failed = Promise.withResolvers<never>();
  const unknownKey = () =>
    failed.reject(new Error(`${where} does not know this session's auth key (a sandbox forgets its sessions when it restarts): get a new session`));
  const client = quietClient(new StringSession(session), opts, socketDialing(addr.host, addr.port, unknownKey));
  const timer = setTimeout(() => failed.reject(new Error(`no answer from ${where} within ${waitSec} s`)), waitSec * 1000);
  try {
    const ok = await Promise.race([client.connect(), failed.promise]);
    if (ok === false) throw new Error(`cannot connect to ${where} after ${retries} attempts: is it (or the sandbox: bun run sandbox) running?`);
    return client;
  } catch (e) {
    await client.destroy().catch(() => {});
    throw e instanceof Error && e.message.includes(where) ? e : new Error(`cannot connect to ${where}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

export type { TelegramClient };
