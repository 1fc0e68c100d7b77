// MTProto service messages answered as Telegram does, through a bare MTProto session (the
// libraries send these only on their own schedule): msgs_state_req, destroy_session,
// get_future_salts, rpc_drop_answer, ping_delay_disconnect.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Api } from "telegram";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt as big } from "telegram/Helpers";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { RawSession } from "../helpers/raw-mtproto.ts";

setDefaultTimeout(30_000); // servers, sockets and processes: slow on a busy machine

let sb: Sandbox;
const sessions: RawSession[] = [];

beforeAll(async () => {
  sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
});
afterAll(async () => {
  for (const s of sessions) s.close();
  await sb.stop();
});

async function open(phone: string): Promise<{ raw: RawSession; session: string }> {
  const { session } = sb.sessionFor(phone);
  const raw = await RawSession.open(sb.mtprotoHost, sb.mtprotoPort, session);
  sessions.push(raw);
  return { raw, session };
}

const RPC_RESULT = 0xf35c6d01;
const read = <T>(body: Buffer) => new BinaryReader(body).tgReadObject() as T;

describe("MTProto service messages", () => {
  test("msgs_state_req: 4 for a message it received, 1 for one it never saw, 3 for one from the future", async () => {
    const { raw } = await open("+79990005001");
    const seen = raw.send(new Api.help.GetNearestDc().getBytes());
    await raw.next(RPC_RESULT);
    const now = BigInt(Math.floor(Date.now() / 1000)) << 32n;
    const never = now | 0x1234n * 4n;
    const future = (BigInt(Math.floor(Date.now() / 1000) + 3600) << 32n) | 4n;
    const req = raw.send(new Api.MsgsStateReq({ msgIds: [big(seen), big(never), big(future)] }).getBytes());
    const info = read<Api.MsgsStateInfo>((await raw.next(Api.MsgsStateInfo.CONSTRUCTOR_ID)).body);
    expect(String(info.reqMsgId)).toBe(String(req));
    expect([...Buffer.from(info.info as unknown as string, "latin1")]).toEqual([4, 1, 3]);
  });

  test("destroy_session: ok for another session of the same key, none for an unknown one", async () => {
    const { raw: first, session } = await open("+79990005002");
    first.send(new Api.help.GetNearestDc().getBytes());
    await first.next(RPC_RESULT);
    const second = await RawSession.open(sb.mtprotoHost, sb.mtprotoPort, session);
    sessions.push(second);
    second.send(new Api.DestroySession({ sessionId: big(first.sessionId) }).getBytes());
    const ok = read<Api.DestroySessionOk>((await second.next(Api.DestroySessionOk.CONSTRUCTOR_ID)).body);
    expect(String(ok.sessionId)).toBe(String(first.sessionId));
    second.send(new Api.DestroySession({ sessionId: big(12345n) }).getBytes());
    const none = read<Api.DestroySessionNone>((await second.next(Api.DestroySessionNone.CONSTRUCTOR_ID)).body);
    expect(String(none.sessionId)).toBe("12345");
  });

  test("get_future_salts: future_salts for that request, periods back to back", async () => {
    const { raw } = await open("+79990005003");
    const req = raw.send(new Api.GetFutureSalts({ num: 3 }).getBytes());
    const body = (await raw.next(Api.FutureSalts.CONSTRUCTOR_ID)).body;
    expect(body.readBigInt64LE(4)).toBe(req);
    expect(body.readInt32LE(16)).toBe(3); // a bare vector: count, then bare future_salt items
    expect(body.readInt32LE(20 + 16)).toBe(body.readInt32LE(24)); // valid_since of the 2nd = valid_until of the 1st
  });

  test("rpc_drop_answer: rpc_answer_unknown in an rpc_result", async () => {
    const { raw } = await open("+79990005004");
    const req = raw.send(new Api.RpcDropAnswer({ reqMsgId: big(1n) }).getBytes());
    const r = (await raw.next(RPC_RESULT)).body;
    expect(r.readBigInt64LE(4)).toBe(req);
    expect(r.readUInt32LE(12)).toBe(Api.RpcAnswerUnknown.CONSTRUCTOR_ID);
  });

  test("ping_delay_disconnect: pong, then the connection closes when no ping follows in time", async () => {
    const { raw } = await open("+79990005005");
    raw.send(new Api.PingDelayDisconnect({ pingId: big(7n), disconnectDelay: 1 }).getBytes());
    const pong = read<Api.Pong>((await raw.next(Api.Pong.CONSTRUCTOR_ID)).body);
    expect(String(pong.pingId)).toBe("7");
    await expect(raw.next(0x0, 3000)).rejects.toThrow(/closed/);
  });
});
