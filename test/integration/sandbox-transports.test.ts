// The MTProto door speaks every TCP transport Telegram does, told apart by the client's first bytes:
// a key exchange's first step over raw sockets in each, and a whole gramjs client over abridged.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { Api, TelegramClient } from "telegram";
import { BinaryReader } from "telegram/extensions";
import { readBigIntFromBuffer } from "telegram/Helpers";
import { ConnectionTCPAbridged, ConnectionTCPObfuscated } from "telegram/network/connection";
import { Logger, LogLevel } from "telegram/extensions/Logger";
import { StringSession } from "telegram/sessions";
import { socketDialing } from "../../lib/client/gramjs/connect.ts";
import { SANDBOX_API_CREDENTIALS } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
});
afterAll(async () => {
  await sb.stop();
});

/** req_pq_multi as an unencrypted message: auth_key_id 0, msg_id, length, body. */
function reqPqMessage(nonce: Buffer): Buffer {
  const body = new Api.ReqPqMulti({ nonce: readBigIntFromBuffer(nonce, true, true) }).getBytes();
  const head = Buffer.alloc(20);
  head.writeBigInt64LE(BigInt(Math.floor(Date.now() / 1000)) << 32n, 8);
  head.writeInt32LE(body.length, 16);
  return Buffer.concat([head, body]);
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};

const TRANSPORTS: { name: string; wrap(m: Buffer): Buffer; unwrap(b: Buffer): Buffer | undefined }[] = [
  {
    name: "abridged",
    wrap: (m) => Buffer.concat([Buffer.from([0xef, m.length / 4]), m]),
    unwrap: (b) => (b.length >= 1 + b[0]! * 4 ? b.subarray(1, 1 + b[0]! * 4) : undefined),
  },
  {
    name: "intermediate",
    wrap: (m) => Buffer.concat([int32(0xeeeeeeee), int32(m.length), m]),
    unwrap: (b) => (b.length >= 4 && b.length >= 4 + b.readUInt32LE(0) ? b.subarray(4, 4 + b.readUInt32LE(0)) : undefined),
  },
  {
    name: "padded intermediate",
    wrap: (m) => {
      const padded = Buffer.concat([m, randomBytes(7)]);
      return Buffer.concat([int32(0xdddddddd), int32(padded.length), padded]);
    },
    unwrap: (b) => (b.length >= 4 && b.length >= 4 + b.readUInt32LE(0) ? b.subarray(4, 4 + b.readUInt32LE(0)) : undefined),
  },
  {
    name: "full",
    wrap: (m) => {
      const head = Buffer.concat([int32(m.length + 12), int32(0), m]);
      return Buffer.concat([head, int32(Bun.hash.crc32(head))]);
    },
    unwrap: (b) => (b.length >= 4 && b.length >= b.readInt32LE(0) ? b.subarray(8, b.readInt32LE(0) - 4) : undefined),
  },
];

/** Sends `bytes` in two pieces (the tag split from the rest) and returns the first packet's payload. */
async function exchange(bytes: Buffer, unwrap: (b: Buffer) => Buffer | undefined): Promise<Buffer> {
  let got = Buffer.alloc(0);
  let done!: (b: Buffer) => void;
  const reply = new Promise<Buffer>((r) => (done = r));
  const socket = await Bun.connect({
    hostname: sb.mtprotoHost,
    port: sb.mtprotoPort,
    socket: {
      data(_s, chunk) {
        got = Buffer.concat([got, chunk]);
        const p = unwrap(got);
        if (p) done(p);
      },
    },
  });
  socket.write(bytes.subarray(0, 1));
  await Bun.sleep(5);
  socket.write(bytes.subarray(1));
  const timeout = Bun.sleep(3000).then(() => {
    throw new Error("no answer within 3 s");
  });
  try {
    return await Promise.race([reply, timeout]);
  } finally {
    socket.end();
  }
}

describe("MTProto transports", () => {
  for (const t of TRANSPORTS) {
    test(`${t.name}: req_pq_multi is answered with resPQ for the same nonce`, async () => {
      const nonce = randomBytes(16);
      const payload = await exchange(t.wrap(reqPqMessage(nonce)), t.unwrap);
      expect(payload.readBigInt64LE(0)).toBe(0n); // unencrypted
      const resPq = new BinaryReader(payload.subarray(20, 20 + payload.readInt32LE(16))).tgReadObject();
      expect(resPq).toBeInstanceOf(Api.ResPQ);
      expect(String((resPq as Api.ResPQ).nonce)).toBe(String(readBigIntFromBuffer(nonce, true, true)));
    });
  }

  for (const [name, connection] of [
    ["abridged", ConnectionTCPAbridged],
    ["obfuscated (abridged inside)", ConnectionTCPObfuscated],
  ] as const) {
    test(`gramjs over the ${name} transport: a preset session works as the user`, async () => {
      const { userId, session } = sb.sessionFor(`+7999000700${name.length}`);
      const client = new TelegramClient(new StringSession(session), SANDBOX_API_CREDENTIALS.apiId, SANDBOX_API_CREDENTIALS.apiHash, {
        connection,
        networkSocket: socketDialing(sb.mtprotoHost, sb.mtprotoPort),
        connectionRetries: 1,
        baseLogger: new Logger(LogLevel.ERROR),
      });
      try {
        await client.connect();
        expect((await client.getMe()).id.toString()).toBe(String(userId));
      } finally {
        await client.destroy();
      }
    });
  }
});
