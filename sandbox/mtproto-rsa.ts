// The sandbox's RSA key for key exchange, and Telegram's fingerprint of an RSA public key.
// The key is generated (2048 bits, e = 65537) when a sandbox first needs it and lives as long as
// that sandbox; clients get its public half from GET /sandbox/rsa. The private half never leaves
// this process.

import "./gramjs-prelude.ts";
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { serializeBytes } from "telegram/tl/generationHelpers";

export interface SandboxRsaKey {
  /** The public key, PKCS#1 PEM ("-----BEGIN RSA PUBLIC KEY-----", as Telegram publishes its keys). */
  pem: string;
  /** Signed decimal, as gramjs keys `_serverKeys` and reads resPQ. */
  fingerprint: string;
  privateKey: KeyObject;
}

/**
 * A key whose fingerprint's top hex digit is not 0, as for each of Telegram's own keys: mtcute 0.27
 * indexes a key it is given by the zero-padded hex of its fingerprint but looks up resPQ's by the
 * unpadded one, so one random key in 16 could never be found by an mtcute client.
 */
export function generateRsaKey(): SandboxRsaKey {
  for (;;) {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 65537 });
    const pem = publicKey.export({ type: "pkcs1", format: "pem" }).toString();
    const { n, e } = rsaPublicParts(pem);
    const fingerprint = rsaFingerprint(n, e);
    if (BigInt.asUintN(64, BigInt(fingerprint)) >> 60n) return { pem, fingerprint, privateKey };
  }
}

/** Telegram's key fingerprint: the low 64 bits of SHA1 of the TL-serialised n and e, signed decimal. */
export function rsaFingerprint(n: Uint8Array, e: number | bigint): string {
  const eHex = BigInt(e).toString(16);
  const eBytes = Buffer.from(eHex.length % 2 ? `0${eHex}` : eHex, "hex");
  const sha = createHash("sha1")
    .update(serializeBytes(Buffer.from(n)))
    .update(serializeBytes(eBytes))
    .digest();
  return sha.readBigInt64LE(12).toString();
}

/** n and e of an RSA public key in PEM (PKCS#1 or SPKI). */
export function rsaPublicParts(pem: string): { n: Buffer; e: number } {
  const jwk = createPublicKey(pem).export({ format: "jwk" });
  if (jwk.kty !== "RSA" || !jwk.n || !jwk.e) throw new Error("not an RSA public key");
  return { n: Buffer.from(jwk.n, "base64url"), e: Number(BigInt("0x" + Buffer.from(jwk.e, "base64url").toString("hex"))) };
}
