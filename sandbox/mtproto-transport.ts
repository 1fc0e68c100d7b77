// MTProto's TCP transports (core.telegram.org/mtproto/mtproto-transports), server side. The client
// names its transport with its first bytes, as Telegram reads them:
//   0xef                  abridged: 1-byte length in 4-byte words (0x7f + 3 bytes when longer)
//   0xeeeeeeee            intermediate: 4-byte length
//   0xdddddddd            padded intermediate: 4-byte length, 0-15 random bytes after the payload
//   a length, then 0     full: length, sequence number (0 first), payload, CRC32
//   anything else         obfuscated: a 64-byte header whose bytes 8-56 key AES-256-CTR both
//                         ways; decrypted, its bytes 56-60 name one of the three above
//                         (0xefefefef, 0xeeeeeeee, 0xdddddddd). No MTProxy secret.

import { type Cipheriv, createCipheriv, createDecipheriv, type Decipheriv, randomBytes } from "node:crypto";

export type TransportName = "abridged" | "intermediate" | "padded intermediate" | "full" | `obfuscated ${string}`;

export interface Transport {
  readonly name: TransportName;
  /** Appends bytes from the socket and returns every complete packet's payload. Throws on garbage. */
  push(chunk: Uint8Array): Buffer[];
  /** One packet to the client. */
  encode(payload: Uint8Array): Buffer;
}

const MAX_PACKET = 16 * 1024 * 1024;

/**
 * Detects the client's transport from its first bytes: undefined until there are enough of them
 * (1 for abridged, 4 for the others). The tag bytes are consumed; the rest goes to the transport.
 */
export class TransportDetector {
  private head: Buffer = Buffer.alloc(0);
  transport?: Transport;

  push(chunk: Uint8Array): Buffer[] {
    if (this.transport) return this.transport.push(chunk);
    this.head = Buffer.concat([this.head, chunk]);
    if (this.head[0] === 0xef) return this.start(new Abridged(), 1);
    if (this.head.length < 4) return [];
    const tag = this.head.readUInt32LE(0);
    if (tag === 0xeeeeeeee) return this.start(new Intermediate(false), 4);
    if (tag === 0xdddddddd) return this.start(new Intermediate(true), 4);
    if (this.head.length < 8) return [];
    if (this.head.readUInt32LE(4) === 0) return this.start(new Full(), 0);
    if (this.head.length < 64) return [];
    return this.start(new Obfuscated(this.head.subarray(0, 64)), 64);
  }

  private start(t: Transport, tagLength: number): Buffer[] {
    this.transport = t;
    const rest = this.head.subarray(tagLength);
    this.head = Buffer.alloc(0);
    return t.push(rest);
  }
}

/** Collects bytes until whole packets are there. */
abstract class Buffered implements Transport {
  abstract readonly name: TransportName;
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const p = this.next(this.buf);
      if (!p) break;
      out.push(p.payload);
      this.buf = this.buf.subarray(p.consumed);
    }
    return out;
  }

  /** The first packet in buf, or undefined when it is not complete yet. */
  protected abstract next(buf: Buffer): { payload: Buffer; consumed: number } | undefined;
  abstract encode(payload: Uint8Array): Buffer;
}

class Abridged extends Buffered {
  readonly name = "abridged";

  protected next(buf: Buffer) {
    if (buf.length < 1) return undefined;
    // The top bit asks for a quick ack, which the sandbox does not send.
    const short = buf[0]! & 0x7f;
    const headLength = short === 0x7f ? 4 : 1;
    if (buf.length < headLength) return undefined;
    const words = short === 0x7f ? buf.readUIntLE(1, 3) : short;
    const end = headLength + words * 4;
    if (words * 4 > MAX_PACKET) throw new Error(`abridged packet of ${words * 4} bytes is too long`);
    return buf.length < end ? undefined : { payload: buf.subarray(headLength, end), consumed: end };
  }

  encode(payload: Uint8Array): Buffer {
    const words = payload.length / 4;
    const head = words < 0x7f ? Buffer.from([words]) : Buffer.from([0x7f, words & 0xff, (words >> 8) & 0xff, (words >> 16) & 0xff]);
    return Buffer.concat([head, payload]);
  }
}

class Intermediate extends Buffered {
  readonly name: TransportName;

  constructor(private readonly padded: boolean) {
    super();
    this.name = padded ? "padded intermediate" : "intermediate";
  }

  protected next(buf: Buffer) {
    if (buf.length < 4) return undefined;
    const length = buf.readUInt32LE(0) & 0x7fffffff; // top bit: quick ack requested
    if (length > MAX_PACKET) throw new Error(`intermediate packet of ${length} bytes is too long`);
    if (buf.length < 4 + length) return undefined;
    return { payload: buf.subarray(4, 4 + length), consumed: 4 + length };
  }

  encode(payload: Uint8Array): Buffer {
    const padding = this.padded ? randomBytes(randomBytes(1)[0]! % 16) : Buffer.alloc(0);
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(payload.length + padding.length, 0);
    return Buffer.concat([head, payload, padding]);
  }
}

class Full extends Buffered {
  readonly name = "full";
  private sendSeq = 0;

  protected next(buf: Buffer) {
    if (buf.length < 4) return undefined;
    const len = buf.readInt32LE(0);
    if (len < 12 || len > MAX_PACKET) throw new Error(`bad TCP-full frame length ${len} (an obfuscated or unknown transport?)`);
    if (buf.length < len) return undefined;
    const frame = buf.subarray(0, len);
    if (crc32(frame.subarray(0, len - 4)) !== frame.readUInt32LE(len - 4)) throw new Error("bad TCP-full frame checksum");
    return { payload: frame.subarray(8, len - 4), consumed: len };
  }

  encode(payload: Uint8Array): Buffer {
    const len = payload.length + 12;
    const frame = Buffer.allocUnsafe(len);
    frame.writeInt32LE(len, 0);
    frame.writeInt32LE(this.sendSeq++, 4);
    frame.set(payload, 8);
    frame.writeUInt32LE(crc32(frame.subarray(0, len - 4)), len - 4);
    return frame;
  }
}

class Obfuscated implements Transport {
  readonly name: TransportName;
  private readonly inner: Transport;
  private readonly decipher: Decipheriv;
  private readonly cipher: Cipheriv;

  constructor(header: Buffer) {
    const reversed = Buffer.from(header.subarray(8, 56)).reverse();
    this.decipher = createDecipheriv("aes-256-ctr", header.subarray(8, 40), header.subarray(40, 56));
    this.cipher = createCipheriv("aes-256-ctr", reversed.subarray(0, 32), reversed.subarray(32, 48));
    const tag = this.decipher.update(header).readUInt32LE(56); // also moves the stream past the header
    if (tag === 0xefefefef) this.inner = new Abridged();
    else if (tag === 0xeeeeeeee) this.inner = new Intermediate(false);
    else if (tag === 0xdddddddd) this.inner = new Intermediate(true);
    else throw new Error(`unknown transport (not full, nor an obfuscated header: tag 0x${tag.toString(16)})`);
    this.name = `obfuscated ${this.inner.name}`;
  }

  push(chunk: Uint8Array): Buffer[] {
    return this.inner.push(this.decipher.update(chunk));
  }

  encode(payload: Uint8Array): Buffer {
    return this.cipher.update(this.inner.encode(payload));
  }
}

function crc32(data: Uint8Array): number {
  return Bun.hash.crc32(data) >>> 0;
}
