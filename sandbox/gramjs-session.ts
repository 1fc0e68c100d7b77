// gramjs's StringSession format, written by the sandbox for the sessions it hands out.

/**
 * "1" + base64(dc_id:u8, address length:u16 BE, address, port:u16 BE, auth key). gramjs's own
 * StringSession.save() writes the port as a signed 16-bit number and throws for ports above 32767
 * (the sandbox's ephemeral ports); its reader takes them fine.
 */
export function encodeSession(a: { dcId: number; host: string; port: number }, authKey: Uint8Array): string {
  const addr = Buffer.from(a.host);
  const head = Buffer.alloc(1 + 2);
  head.writeUInt8(a.dcId, 0);
  head.writeUInt16BE(addr.length, 1);
  const port = Buffer.alloc(2);
  port.writeUInt16BE(a.port, 0);
  return "1" + Buffer.concat([head, addr, port, Buffer.from(authKey)]).toString("base64");
}
