// The two places we reach into gramjs's MTProtoSender (pinned: see prelude.ts).

import "./prelude.ts";
import type { Api, TelegramClient } from "telegram";
import { BinaryWriter } from "telegram/extensions";
import { RequestState } from "telegram/network/RequestState";
import { nowMs } from "../../timing.ts";

interface TLMessage {
  msgId: { toString(): string };
  obj: unknown;
}
interface SenderInternals {
  _userConnected: boolean;
  isReconnecting: boolean;
  _connection?: { _connected: boolean; _send(data: Buffer): Promise<void> };
  _state: {
    writeDataAsMessage(w: BinaryWriter, data: Buffer, contentRelated: boolean): Promise<RequestState["msgId"]>;
    encryptMessageData(data: Buffer): Promise<Buffer>;
    decryptMessageData(body: Buffer): Promise<TLMessage>;
  };
  _pendingState: { set(msgId: unknown, state: RequestState): void; delete(msgId: unknown): void };
}

const senderOf = (tg: TelegramClient) => (tg as unknown as { _sender?: SenderInternals })._sender;

function connectedSender(tg: TelegramClient): SenderInternals | undefined {
  const s = senderOf(tg);
  return s?._userConnected && !s.isReconnecting && s._connection?._connected ? s : undefined;
}

// Serialises, encrypts and writes the request in this event-loop turn instead of gramjs's send loop
// (which packs a container through two more async queues: ~0.1 ms). It is registered as pending as
// the send loop would, so answers, errors and resends after a reconnect still go through gramjs.
export function fastInvoke<R extends Api.AnyRequest>(tg: TelegramClient, request: R): Promise<R["__response"]> {
  const s = connectedSender(tg);
  if (!s) return tg.invoke(request);
  const pending = new RequestState(request);
  void (async () => {
    const w = new BinaryWriter(Buffer.alloc(0));
    pending.msgId = await s._state.writeDataAsMessage(w, pending.data, true);
    const encrypted = await s._state.encryptMessageData(w.getValue());
    s._pendingState.set(pending.msgId, pending);
    try {
      await s._connection!._send(encrypted);
    } catch (e) {
      // A write that failed is the caller's to retry, not gramjs's to resend after a reconnect.
      s._pendingState.delete(pending.msgId);
      throw e;
    }
  })().catch((e: unknown) => pending.reject(e));
  return pending.promise as Promise<R["__response"]>;
}

/** Calls `see` for every object received (containers unpacked) until stop(): gramjs does not expose msg_ids, which carry the server's time. */
export function watchIncomingMsgIds(tg: TelegramClient, see: (obj: unknown, msgId: bigint, receivedAt: number) => void): () => void {
  const state = senderOf(tg)?._state;
  if (!state || typeof state.decryptMessageData !== "function") throw new Error("gramjs internals changed: no MTProtoSender state to read msg_ids from");
  const original = state.decryptMessageData;
  state.decryptMessageData = async function (this: unknown, body: Buffer) {
    const receivedAt = nowMs();
    const m = await original.call(this, body);
    const inner = (m.obj as { messages?: TLMessage[] } | undefined)?.messages;
    for (const x of Array.isArray(inner) ? inner : [m]) see(x.obj, BigInt(x.msgId.toString()), receivedAt);
    return m;
  };
  return () => {
    state.decryptMessageData = original;
  };
}
