// A bare MTProto 2.0 client session for tests of service messages that libraries send only on
// their own schedule (msgs_state_req, destroy_session, ...): intermediate transport, an auth key
// from a sandbox session string, encrypted messages written and read by hand per the spec.

import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "bun";
import { IGE } from "telegram/crypto/IGE";

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

/** MTProto 2.0 AES key and iv; x = 0 client to server, 8 server to client. */
function aesKeyIv(authKey: Buffer, msgKey: Buffer, x: 0 | 8) {
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(x + 40, x + 76), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

export interface Received {
  msgId: bigint;
  body: Buffer;
  ctor: number;
}

export class RawSession {
  readonly sessionId = randomBytes(8).readBigInt64LE(0);
  private msgCount = 0n;
  private buf = Buffer.alloc(0);
  private readonly inbox: Received[] = [];
  private wake?: () => void;
  closed = false;

  private constructor(
    private readonly authKey: Buffer,
    private readonly socket: Socket<undefined>,
  ) {}

  /** Connects with the auth key inside a gramjs session string the sandbox made (its last 256 bytes). */
  static async open(host: string, port: number, session: string): Promise<RawSession> {
    const raw = Buffer.from(session.slice(1), "base64");
    let self!: RawSession;
    const socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => self.onData(chunk),
        close: () => {
          self.closed = true;
          self.wake?.();
        },
      },
    });
    self = new RawSession(raw.subarray(raw.length - 256), socket);
    socket.write(Buffer.from([0xee, 0xee, 0xee, 0xee]));
    return self;
  }

  /** Sends one message (salt 0, which the sandbox takes as any); returns its msg_id. */
  send(body: Buffer): bigint {
    const msgId = (BigInt(Math.floor(Date.now() / 1000)) << 32n) | (++this.msgCount << 2n);
    const unpadded = 32 + body.length;
    const plain = Buffer.concat([Buffer.alloc(32), body, randomBytes(12 + ((16 - ((unpadded + 12) % 16)) % 16))]);
    plain.writeBigInt64LE(this.sessionId, 8);
    plain.writeBigInt64LE(msgId, 16);
    plain.writeInt32LE(Number(this.msgCount) * 2 + 1, 24);
    plain.writeInt32LE(body.length, 28);
    const msgKey = sha256(this.authKey.subarray(88, 120), plain).subarray(8, 24);
    const { key, iv } = aesKeyIv(this.authKey, msgKey, 0);
    const keyId = createHash("sha1").update(this.authKey).digest().subarray(12, 20);
    const packet = Buffer.concat([keyId, msgKey, new IGE(key, iv).encryptIge(plain)]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(packet.length, 0);
    this.socket.write(Buffer.concat([len, packet]));
    return msgId;
  }

  /** The next message from the server whose constructor is `ctor`. */
  async next(ctor: number, ms = 3000): Promise<Received> {
    const end = performance.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.ctor === ctor);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`connection closed before 0x${ctor.toString(16)}`);
      const left = end - performance.now();
      if (left <= 0) throw new Error(`no 0x${ctor.toString(16)} within ${ms} ms`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, left);
      });
    }
  }

  close(): void {
    this.socket.end();
  }

  private onData(chunk: Uint8Array): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32LE(0)) {
      const packet = this.buf.subarray(4, 4 + this.buf.readUInt32LE(0));
      this.buf = this.buf.subarray(4 + packet.length);
      const msgKey = packet.subarray(8, 24);
      const { key, iv } = aesKeyIv(this.authKey, msgKey, 8);
      const plain = new IGE(key, iv).decryptIge(packet.subarray(24));
      const body = plain.subarray(32, 32 + plain.readInt32LE(28));
      this.inbox.push({ msgId: plain.readBigInt64LE(16), body, ctor: body.readUInt32LE(0) });
    }
    this.wake?.();
  }
}
