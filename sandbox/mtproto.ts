// MTProto 2.0 front of the sandbox: a loopback TCP server that unmodified clients (gramjs, mtcute,
// Telethon) talk to as they would to a Telegram DC, each in its own transport and layer. Sessions
// are minted by sessionFor() with a preset auth key, or made the real way: key exchange with the
// sandbox's RSA key, then auth.sendCode / auth.signIn (mtproto-auth.ts). The world's events for a
// user are logged per account (mtproto-updates.ts) and pushed to every connection of that user.

import "./gramjs-prelude.ts";
import { randomBytes } from "node:crypto";
import type { Socket, TCPSocketListener } from "bun";
import { Api } from "telegram";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt } from "telegram/Helpers";
import { TypeNotFoundError } from "telegram/errors";
import { encodeSession } from "./gramjs-session.ts";
import { SANDBOX_HOST, sandboxPortFromEnv } from "./defaults.ts";
import { UpdateLog } from "./mtproto-updates.ts";
import { apiBot, apiSelf, apiUpdate, type ApiConn, type ApiServer, invoke, RpcFail } from "./mtproto-api.ts";
import { type Handshake, HandshakeError, keyExchangeStep, PhoneLogin, UNREGISTERED_OK } from "./mtproto-auth.ts";
import { generateRsaKey, type SandboxRsaKey } from "./mtproto-rsa.ts";
import { authKeyId, decryptFromClient, encryptToClient, MsgIdClock, msgIdTimeSec, newAuthKey } from "./mtproto-crypto.ts";
import { codecForLayer, declaredLayer, DEFAULT_CODEC, type LayerCodec } from "./mtproto-layers.ts";
import { serviceAnswer, unpackMessages } from "./mtproto-service.ts";
import { TransportDetector } from "./mtproto-transport.ts";
import type { Bot, User, UserEvent, World } from "./world.ts";

export interface MtprotoServer {
  host: string;
  port: number;
  sessionFor(userId: number): string;
  /** The sandbox's RSA public key (PKCS#1 PEM) that clients must trust for key exchange. */
  rsaPublicKey(): { pem: string; fingerprint: string };
  /** Whether this server knows an auth key (by auth_key_id), and the user it is bound to (0: none yet). */
  authKeyUser(keyId: bigint): number | undefined;
  /** Closes the TCP connections of one user (or of everyone): a network drop, for clients' reconnect tests. */
  dropConnections(userId?: number): number;
  stop(): Promise<void>;
}

export interface MtprotoOptions {
  host?: string;
  /** 0 = ephemeral; default $SANDBOX_MTPROTO_PORT (read when the server starts), else 8443. */
  port?: number;
  /** Answer FLOOD_WAIT_n when a user sends more requests than this in one second. */
  floodWait?: { requestsPerSecond: number } | null;
  /** Shifts the server's clock (msg ids, dates) by this much, to test clients' clock sync. */
  clockSkewMs?: number;
}

interface AuthKeyEntry {
  key: Buffer;
  keyId: bigint;
  /** 0 until the key signs in (keys made by key exchange start unbound). */
  userId: number;
  salt: bigint;
  /** Sessions (session_id) seen with this key, for destroy_session. */
  sessions: Set<bigint>;
}

interface Conn extends ApiConn {
  socket: Socket<Conn>;
  /** The client's transport, known from its first bytes. */
  frames: TransportDetector;
  auth?: AuthKeyEntry;
  /** Key exchange in progress on this connection. */
  handshake?: Handshake;
  sessionId?: bigint;
  contentSeq: number;
  /** Bytes Bun could not write yet (socket back-pressure). */
  backlog: Buffer[];
  closed: boolean;
  /** The layer the client declared (invokeWithLayer), and the codec its requests and answers use. */
  layer?: number;
  codec: LayerCodec;
  /** Recent msg_ids from the client, for msgs_state_req. */
  received: Set<bigint>;
  disconnectTimer?: ReturnType<typeof setTimeout>;
}

const RPC_RESULT = 0xf35c6d01;

// Requests whose reply is the inner query's: the connection handshake and invoke wrappers.
const WRAPPERS = new Set(["InvokeWithLayer", "InitConnection", "InvokeWithoutUpdates", "InvokeAfterMsg", "InvokeAfterMsgs"]);
// Not counted against the flood limit: the handshake every connect makes.
const FLOOD_EXEMPT = new Set(["help.GetConfig"]);

const big = (n: bigint) => returnBigInt(n);

function rpcResult(reqMsgId: bigint, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(12);
  head.writeUInt32LE(RPC_RESULT, 0);
  head.writeBigInt64LE(reqMsgId, 4);
  return Buffer.concat([head, body]);
}

function logFailure(e: unknown): void {
  console.error("[sandbox mtproto] request failed:", e);
}

function randomLong(): bigint {
  return randomBytes(8).readBigInt64LE(0);
}

export async function startMtproto(world: World, opts: MtprotoOptions = {}): Promise<MtprotoServer> {
  const host = opts.host ?? SANDBOX_HOST;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "::1") {
    throw new Error(`the MTProto sandbox listens on loopback only, not on ${host}`);
  }
  const clock = new MsgIdClock(opts.clockSkewMs ?? 0);
  const keys = new Map<bigint, AuthKeyEntry>();
  const hashSeed = randomBytes(8).readBigUInt64LE(0);
  const logs = new Map<number, UpdateLog>();
  const connsByUser = new Map<number, Set<Conn>>();
  const unlistenByUser = new Map<number, () => void>();
  const flood = new Map<number, { windowStart: number; count: number }>();
  const warned = new Set<string>();
  const all = new Set<Conn>();
  let rsa: SandboxRsaKey | undefined;
  const rsaKey = () => (rsa ??= generateRsaKey());
  const phoneLogin = new PhoneLogin();

  const api: ApiServer = {
    world,
    host,
    port: 0,
    nowSec: () => clock.nowSec(),
    accessHash: (id) => BigInt.asIntN(64, Bun.hash.wyhash(String(id), hashSeed)),
    updates: (userId) => updateLog(userId),
    logOut: (conn) => {
      const entry = (conn as Conn).auth;
      if (!entry) return;
      entry.userId = 0;
      for (const c of all) {
        if (c.auth !== entry) continue;
        leave(c);
        c.userId = 0;
      }
    },
  };

  // ---- writing ----

  function write(c: Conn, bytes: Buffer): void {
    if (c.closed) return;
    if (c.backlog.length) {
      c.backlog.push(bytes);
      return;
    }
    const n = c.socket.write(bytes);
    if (n < bytes.length) c.backlog.push(bytes.subarray(Math.max(0, n)));
  }

  /** One packet in the client's transport. */
  function writePacket(c: Conn, payload: Buffer): void {
    if (c.frames.transport) write(c, c.frames.transport.encode(payload));
  }

  function flush(c: Conn): void {
    while (c.backlog.length && !c.closed) {
      const b = c.backlog[0]!;
      const n = c.socket.write(b);
      if (n < b.length) {
        c.backlog[0] = b.subarray(Math.max(0, n));
        return;
      }
      c.backlog.shift();
    }
  }

  /** Sends one message: content-related ones (results, updates) get odd seq_no. */
  function send(c: Conn, body: Buffer, kind: "response" | "content", contentRelated: boolean): void {
    if (!c.auth || c.sessionId === undefined) return;
    const seqNo = contentRelated ? c.contentSeq++ * 2 + 1 : c.contentSeq * 2;
    const payload = encryptToClient(c.auth.key, c.auth.keyId, {
      salt: c.auth.salt,
      sessionId: c.sessionId,
      msgId: clock.next(kind),
      seqNo,
      body,
    });
    writePacket(c, payload);
  }

  function sendError(c: Conn, reqMsgId: bigint, code: number, message: string): void {
    send(c, rpcResult(reqMsgId, new Api.RpcError({ errorCode: code, errorMessage: message }).getBytes()), "response", true);
  }

  // ---- pushed updates ----

  /** The user's update state; from its first use on, the world's events for the user are logged. */
  function updateLog(userId: number): UpdateLog {
    let log = logs.get(userId);
    if (!log) {
      logs.set(userId, (log = new UpdateLog()));
      unlistenByUser.set(
        userId,
        world.listen(userId, (e) => onUserEvent(userId, log!, e)),
      );
    }
    return log;
  }

  function onUserEvent(userId: number, log: UpdateLog, e: UserEvent): void {
    const entry = log.record(
      e.type === "deleteMessages" ? { kind: "delete", userMsgIds: e.userMsgIds } : { kind: e.type === "newMessage" ? "new" : "edit", message: e.message },
    );
    const conns = connsByUser.get(userId);
    if (!conns?.size) return; // a client that reconnects gets it from updates.getDifference
    const botId = e.type === "deleteMessages" ? 0 : e.message.botId;
    const messageId = e.type === "deleteMessages" ? (e.ids[0] ?? 0) : e.message.id;
    // Only the users the update refers to: the bot, or the user in Saved Messages.
    const users: Api.TypeUser[] = [];
    const peer = botId ? world.bots.get(botId) : world.users.get(userId);
    if (peer) users.push(botId ? apiBot(api, peer as Bot) : apiSelf(api, peer as User));
    const updates = new Api.Updates({ updates: [apiUpdate(entry)], users, chats: [], date: clock.nowSec(), seq: 0 });
    const bodies = new Map<LayerCodec, Buffer>(); // one serialisation per layer in use
    for (const c of conns) {
      if (c.sendingToSelf && botId === 0) continue; // the sender gets it as its request's result
      let body = bodies.get(c.codec);
      if (!body) bodies.set(c.codec, (body = c.codec.write(updates)));
      send(c, body, "content", true);
      if (world.observed) world.trace({ type: "mtprotoPush", userId, messageId, ts: performance.now() });
    }
  }

  function attach(c: Conn, entry: AuthKeyEntry): void {
    c.auth = entry;
    if (entry.userId) join(c, entry.userId);
  }

  /** From now on the connection acts as this user and gets the user's updates. */
  function join(c: Conn, userId: number): void {
    c.userId = userId;
    updateLog(userId);
    let set = connsByUser.get(userId);
    if (!set) connsByUser.set(userId, (set = new Set()));
    set.add(c);
  }

  /** auth.signIn succeeded: the key (and every connection using it) now belongs to the user. */
  function bindKey(entry: AuthKeyEntry, userId: number): void {
    if (entry.userId === userId) return;
    if (entry.userId) throw new RpcFail(400, "AUTH_KEY_DUPLICATED"); // already another user's key
    entry.userId = userId;
    for (const c of all) if (c.auth === entry) join(c, userId);
  }

  function detach(c: Conn): void {
    c.closed = true;
    clearTimeout(c.disconnectTimer);
    all.delete(c);
    if (!c.auth || !c.userId) return;
    leave(c);
  }

  /** The connection no longer acts as its user (closed, or the key logged out). */
  function leave(c: Conn): void {
    const set = connsByUser.get(c.userId);
    set?.delete(c);
    if (set && set.size === 0) connsByUser.delete(c.userId);
  }

  // ---- reading ----

  function floodWaitSeconds(userId: number): number {
    const limit = opts.floodWait?.requestsPerSecond;
    if (!limit) return 0;
    const now = performance.now();
    let f = flood.get(userId);
    if (!f || now - f.windowStart >= 1000) flood.set(userId, (f = { windowStart: now, count: 0 }));
    f.count++;
    return f.count > limit ? Math.max(1, Math.ceil((f.windowStart + 1000 - now) / 1000)) : 0;
  }

  /** `arrivedAt`: when the request's bytes were read from the socket, before any decoding. */
  async function handleRequest(c: Conn, reqMsgId: bigint, obj: any, arrivedAt: number): Promise<void> {
    let q = obj;
    while (q && WRAPPERS.has(q.className)) q = q.query;
    const method: string = q?.className ?? "?";
    if (world.observed) world.trace({ type: "mtprotoRequest", userId: c.userId, method, ts: arrivedAt });
    const login = phoneLogin.handlers[method];
    if (login) {
      try {
        const entry = c.auth!;
        const result = login({ api, conn: c, bindUser: (userId) => bindKey(entry, userId) }, q);
        return send(c, rpcResult(reqMsgId, c.codec.write(result)), "response", true);
      } catch (e) {
        if (e instanceof RpcFail) return sendError(c, reqMsgId, e.code, e.errorMessage);
        console.error(`[sandbox mtproto] ${method} failed:`, e);
        return sendError(c, reqMsgId, 500, "INTERNAL_SERVER_ERROR");
      }
    }
    // A key that has not signed in may only ask for the config (Telegram's answer to the rest).
    if (!c.userId && !UNREGISTERED_OK.has(method)) return sendError(c, reqMsgId, 401, "AUTH_KEY_UNREGISTERED");
    if (!FLOOD_EXEMPT.has(method)) {
      const wait = floodWaitSeconds(c.userId);
      if (wait) return sendError(c, reqMsgId, 420, `FLOOD_WAIT_${wait}`);
    }
    try {
      const result = await invoke(api, c, method, q);
      send(c, rpcResult(reqMsgId, c.codec.write(result)), "response", true);
    } catch (e) {
      if (e instanceof RpcFail) {
        if (e.errorMessage === "INPUT_METHOD_INVALID") warnOnce(method, `unsupported method ${method}: answered 400 INPUT_METHOD_INVALID`);
        return sendError(c, reqMsgId, e.code, e.errorMessage);
      }
      console.error(`[sandbox mtproto] ${method} failed:`, e);
      sendError(c, reqMsgId, 500, "INTERNAL_SERVER_ERROR");
    }
  }

  /** One message from the client, out of its container: a service message or an API request. */
  function onMessage(c: Conn, msgId: bigint, body: Buffer, arrivedAt: number): void {
    rememberReceived(c, msgId);
    const layer = declaredLayer(body);
    if (layer !== undefined && layer !== c.layer) {
      c.layer = layer;
      c.codec = codecForLayer(layer);
    }
    let obj: unknown;
    try {
      obj = c.codec.read(body);
    } catch (e) {
      // Never silent: the client gets an error for this msg_id instead of waiting for its timeout.
      const unknown = e instanceof TypeNotFoundError;
      const ctor = body.length >= 4 ? body.readUInt32LE(0).toString(16).padStart(8, "0") : "none";
      warnOnce(`decode:${ctor}`, `cannot decode a request (constructor 0x${ctor}): ${(e as Error).message}; answered 400`);
      return sendError(c, msgId, 400, unknown ? "INPUT_METHOD_INVALID" : "INPUT_FETCH_ERROR");
    }
    if (obj instanceof Api.Ping || obj instanceof Api.PingDelayDisconnect) {
      if (obj instanceof Api.PingDelayDisconnect) disconnectAfter(c, obj.disconnectDelay);
      send(c, new Api.Pong({ msgId: big(msgId), pingId: obj.pingId }).getBytes(), "response", false);
      return;
    }
    if (obj instanceof Api.RpcDropAnswer) {
      // Every request is answered as soon as it is done: nothing is left to drop.
      return send(c, rpcResult(msgId, new Api.RpcAnswerUnknown().getBytes()), "response", false);
    }
    const service = serviceAnswer(obj, msgId, {
      salt: c.auth!.salt,
      nowSec: clock.nowSec(),
      received: c.received,
      destroySession: (id) => c.auth!.sessions.delete(id),
    });
    if (service === "none") return;
    if (service) return send(c, service.body, "response", service.contentRelated);
    void handleRequest(c, msgId, obj, arrivedAt).catch(logFailure);
  }

  function rememberReceived(c: Conn, msgId: bigint): void {
    c.received.add(msgId);
    if (c.received.size > 1000) c.received.delete(c.received.values().next().value!);
  }

  /** ping_delay_disconnect: close the connection when no other ping comes within `seconds`. */
  function disconnectAfter(c: Conn, seconds: number): void {
    clearTimeout(c.disconnectTimer);
    c.disconnectTimer = setTimeout(() => c.socket.end(), seconds * 1000);
  }

  function warnOnce(key: string, text: string): void {
    if (warned.has(key)) return;
    warned.add(key);
    console.warn(`[sandbox mtproto] ${text}`);
  }

  function onPayload(c: Conn, payload: Buffer, arrivedAt: number): void {
    if (payload.length < 8) return;
    const keyId = payload.readBigUInt64LE(0);
    if (keyId === 0n) {
      void onPlainMessage(c, payload).catch(logFailure);
      return;
    }
    const entry = keys.get(keyId);
    if (!entry || (c.auth && c.auth !== entry)) {
      // Telegram's answer to an unknown auth key: a 4-byte packet holding -404.
      const b = Buffer.allocUnsafe(4);
      b.writeInt32LE(-404, 0);
      writePacket(c, b);
      return;
    }
    let env;
    try {
      env = decryptFromClient(entry.key, payload);
    } catch {
      return; // Telegram drops messages that fail the msg_key check
    }
    if (!c.auth) attach(c, entry);
    if (c.sessionId !== env.sessionId) {
      c.sessionId = env.sessionId;
      c.contentSeq = 0;
      entry.sessions.add(env.sessionId);
      const ns = new Api.NewSessionCreated({ firstMsgId: big(env.msgId), uniqueId: big(randomLong()), serverSalt: big(entry.salt) });
      send(c, ns.getBytes(), "content", true);
    }
    const t = msgIdTimeSec(env.msgId);
    const now = clock.nowSec();
    if (t < now - 300 || t > now + 30) {
      // gramjs takes the server time from this message's msg_id and resends.
      const bad = new Api.BadMsgNotification({ badMsgId: big(env.msgId), badMsgSeqno: env.seqNo, errorCode: t < now ? 16 : 17 });
      send(c, bad.getBytes(), "response", false);
      return;
    }
    if (env.salt !== entry.salt && env.salt !== 0n) {
      const bad = new Api.BadServerSalt({ badMsgId: big(env.msgId), badMsgSeqno: env.seqNo, errorCode: 48, newServerSalt: big(entry.salt) });
      send(c, bad.getBytes(), "response", false);
      return;
    }
    for (const m of unpackMessages(env)) onMessage(c, m.msgId, m.body, arrivedAt);
  }

  /** An unencrypted message (auth_key_id 0, msg_id, length, body): a step of the key exchange. */
  async function onPlainMessage(c: Conn, payload: Buffer): Promise<void> {
    const len = payload.length >= 20 ? payload.readInt32LE(16) : -1;
    let reply: Buffer;
    try {
      if (len <= 0 || 20 + len > payload.length) throw new HandshakeError("bad unencrypted message");
      const req = new BinaryReader(payload.subarray(20, 20 + len)).tgReadObject();
      const step = await keyExchangeStep((c.handshake ??= {}), req, rsaKey, () => clock.nowSec());
      if (step.authKey) {
        const { key, salt } = step.authKey;
        const keyId = authKeyId(key);
        keys.set(keyId, { key, keyId, userId: 0, salt, sessions: new Set() });
        c.handshake = undefined;
      }
      reply = step.reply;
    } catch (e) {
      // Telegram drops a connection whose key exchange goes wrong.
      console.warn(`[sandbox mtproto] key exchange failed: ${e instanceof HandshakeError ? e.message : String(e)}`);
      c.socket.end();
      return;
    }
    const head = Buffer.alloc(20);
    head.writeBigInt64LE(clock.next("response"), 8);
    head.writeInt32LE(reply.length, 16);
    writePacket(c, Buffer.concat([head, reply]));
  }

  const port = opts.port ?? sandboxPortFromEnv("SANDBOX_MTPROTO_PORT");
  let listener: TCPSocketListener<Conn>;
  try {
    listener = Bun.listen<Conn>({
      hostname: host,
      port,
      socket: {
        open(socket) {
          const c: Conn = {
            socket,
            frames: new TransportDetector(),
            contentSeq: 0,
            backlog: [],
            closed: false,
            received: new Set(),
            codec: DEFAULT_CODEC,
            userId: 0,
            sendingToSelf: false,
          };
          socket.data = c;
          all.add(c);
        },
        data(socket, chunk) {
          const arrivedAt = performance.now();
          const c = socket.data;
          let frames: Buffer[];
          try {
            frames = c.frames.push(chunk);
          } catch (e) {
            console.warn(`[sandbox mtproto] closing a connection: ${(e as Error).message}`);
            socket.end();
            return;
          }
          for (const f of frames) onPayload(c, f, arrivedAt);
        },
        drain(socket) {
          flush(socket.data);
        },
        close(socket) {
          detach(socket.data);
        },
        error(socket) {
          detach(socket.data);
        },
      },
    });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "EADDRINUSE" || /in use/i.test(err.message ?? "")) {
      throw new Error(`MTProto sandbox: port ${port} on ${host} is taken (set SANDBOX_MTPROTO_PORT or stop the other process)`);
    }
    throw e;
  }
  api.port = listener.port;

  return {
    host,
    port: listener.port,
    sessionFor(userId: number): string {
      world.mustUser(userId);
      const key = newAuthKey();
      const keyId = authKeyId(key);
      keys.set(keyId, { key, keyId, userId, salt: randomLong(), sessions: new Set() });
      return encodeSession({ dcId: 2, host, port: listener.port }, key);
    },
    rsaPublicKey() {
      const k = rsaKey();
      return { pem: k.pem, fingerprint: k.fingerprint };
    },
    authKeyUser(keyId: bigint): number | undefined {
      return keys.get(keyId)?.userId;
    },
    dropConnections(userId?: number): number {
      const victims = [...all].filter((c) => userId === undefined || c.userId === userId);
      for (const c of victims) {
        detach(c);
        c.socket.end();
      }
      return victims.length;
    },
    async stop(): Promise<void> {
      for (const c of [...all]) {
        c.socket.end();
        detach(c);
      }
      for (const un of unlistenByUser.values()) un();
      unlistenByUser.clear();
      connsByUser.clear();
      listener.stop(true);
    },
  };
}
