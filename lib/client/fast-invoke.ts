// The hot path's way to send a request: serialise, encrypt and write it to the socket in the same
// turn of the event loop, instead of queueing it for gramjs's send loop (which wakes up, packs a
// container with pending acks and goes through two more async queues before the socket: about
// 0.1 ms here). Responses, errors (FLOOD_WAIT...) and resends after a reconnect still go through
// gramjs's own machinery: the request is registered as pending exactly as its send loop would.
// Relies on gramjs internals (telegram 2.26.22, pinned); whenever they are not as expected, or the
// connection is not up, it falls back to the ordinary `invoke`.

import "../gramjs-prelude.ts";
import type { Api, TelegramClient } from "telegram";
import { BinaryWriter } from "telegram/extensions";
import { RequestState } from "telegram/network/RequestState";

interface SenderInternals {
  _userConnected: boolean;
  isReconnecting: boolean;
  _connection?: { _connected: boolean; _send(data: Buffer): Promise<void> };
  _state: {
    writeDataAsMessage(w: BinaryWriter, data: Buffer, contentRelated: boolean): Promise<unknown>;
    encryptMessageData(data: Buffer): Promise<Buffer>;
  };
  _pendingState: { set(msgId: unknown, state: unknown): void; delete(msgId: unknown): void };
}

interface State {
  msgId?: unknown;
  data: Buffer;
  promise: Promise<unknown>;
  reject(e: unknown): void;
}

function sender(tg: TelegramClient): SenderInternals | undefined {
  const s = (tg as unknown as { _sender?: SenderInternals })._sender;
  if (!s || !s._userConnected || s.isReconnecting || !s._connection?._connected) return undefined;
  if (typeof s._state?.writeDataAsMessage !== "function" || typeof s._connection._send !== "function") return undefined;
  return s;
}

export function fastInvoke<R extends Api.AnyRequest>(tg: TelegramClient, request: R): Promise<R["__response"]> {
  const s = sender(tg);
  if (!s) return tg.invoke(request);
  const state = new RequestState(request) as unknown as State;
  void (async () => {
    const w = new BinaryWriter(Buffer.alloc(0));
    state.msgId = await s._state.writeDataAsMessage(w, state.data, true);
    const encrypted = await s._state.encryptMessageData(w.getValue());
    s._pendingState.set(state.msgId, state);
    try {
      await s._connection!._send(encrypted);
    } catch (e) {
      // A write that failed is the caller's to retry, not gramjs's to resend after a reconnect.
      s._pendingState.delete(state.msgId);
      throw e;
    }
  })().catch((e: unknown) => state.reject(e));
  return state.promise as Promise<R["__response"]>;
}
