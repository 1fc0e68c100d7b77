// Runs the hot path's code on made-up data during prepare, so that the reaction that matters, the
// first of the day, runs compiled code: cold, the first reaction measured about 1 ms and the first
// booking several ms slower than the ones after it. No network, no clock, not the real flow.

import "./gramjs/prelude.ts";
import { randomBytes } from "node:crypto";
import { Api } from "telegram";
import { IGE } from "telegram/crypto/IGE";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt } from "telegram/Helpers";
import { RequestState } from "telegram/network/RequestState";
import { initialState, step, type FlowConfig, type FlowState } from "../flow.ts";
import { generateRandomLong } from "./gramjs/fast-longs.ts";
import { BUTTON } from "../ui.ts";
import { updateToEvent, type CallbackTokens } from "./updates.ts";

function botMessage(botId: string, id: number, text: string, labels: string[]): Buffer {
  const buttons = labels.map((t, i) => new Api.KeyboardButtonCallback({ text: t, data: Buffer.from(`warm:${i}`) }));
  const rows = buttons.map((b) => new Api.KeyboardButtonRow({ buttons: [b] }));
  const replyMarkup = rows.length ? new Api.ReplyInlineMarkup({ rows }) : undefined;
  const message = new Api.Message({ id, peerId: new Api.PeerUser({ userId: returnBigInt(botId) }), date: 0, message: text, replyMarkup });
  const update = new Api.UpdateNewMessage({ message, pts: id, ptsCount: 1 });
  return new Api.Updates({ updates: [update], users: [], chats: [], date: 0, seq: 0 }).getBytes();
}

/** Returns how many made-up bookings ran through to the result: all of them, or the script is stale. */
export function warmUp(botId: string, peer: Api.InputPeerUser, flow: Partial<FlowConfig> & Pick<FlowConfig, "targets">, rounds = 300): number {
  const cfg = { ...initialState(flow).config, maxRetries: 1 };
  const city = cfg.targets[0]?.cities[0] ?? "warm";
  // The bot's side of one booking, as the client would receive it.
  const wire = [
    botMessage(botId, 1, `📢 ${cfg.texts.announcement[0]}`, []),
    botMessage(botId, 2, "menu", [`${city} → ${city} 00:00 (1)`, BUTTON.myBookings]),
    botMessage(botId, 3, "prompt", [cfg.texts.confirmButton[0]!, BUTTON.cancel]),
    botMessage(botId, 4, `${cfg.texts.booked[0]}: ${city}`, []),
  ];
  const key = randomBytes(32);
  const iv = randomBytes(32);
  let booked = 0;
  for (let i = 0; i < rounds; i++) {
    const tokens: CallbackTokens = new Map();
    let state: FlowState = step(initialState(cfg), { type: "start" }).state;
    for (const bytes of wire) {
      // The receive path: decrypt (AES-IGE is JavaScript in gramjs), parse, turn into a flow event, step.
      new IGE(key, iv).decryptIge(bytes.subarray(0, bytes.length - (bytes.length % 16)));
      const parsed = new BinaryReader(bytes).tgReadObject() as Api.Updates;
      const ev = updateToEvent(parsed.updates[0], botId, tokens, i);
      if (!ev) continue;
      const r = step(state, ev);
      state = r.state;
      // The send path: build and serialise the request each action asks for.
      for (const a of r.actions) {
        let req: Api.AnyRequest | undefined;
        if (a.type === "sendText") req = new Api.messages.SendMessage({ peer, message: a.text, randomId: generateRandomLong() });
        if (a.type === "press") req = new Api.messages.GetBotCallbackAnswer({ peer, msgId: a.messageId, data: tokens.get(a.button.data ?? "") });
        if (req) new IGE(key, iv).encryptIge(new RequestState(req).data);
      }
    }
    if (state.result) booked++;
  }
  return booked;
}
