// gramjs TL updates → the flow's message events. Pure; on the hot path, so it allocates only what the event needs.

import { Api } from "./gramjs/prelude.ts";
import type { Button, MessageEvent } from "../flow.ts";

/** Opaque flow tokens → the real callback bytes to send back with GetBotCallbackAnswer. */
export type CallbackTokens = Map<string, Buffer>;

/** The keyboard as flow buttons; a callback button's bytes are registered in `tokens` under its token. */
function keyboardButtons(markup: Api.TypeReplyMarkup | undefined, tokens: CallbackTokens): Button[][] {
  if (markup instanceof Api.ReplyKeyboardMarkup) return markup.rows.map((r) => r.buttons.map((b) => ({ text: b.text, reply: true })));
  if (!(markup instanceof Api.ReplyInlineMarkup)) return [];
  return markup.rows.map((r) =>
    r.buttons.map((b) => {
      if (!(b instanceof Api.KeyboardButtonCallback)) return { text: b.text };
      const data = Buffer.from(b.data);
      // latin1 maps every byte to one char: a lossless, cheap key for arbitrary bytes.
      const token = data.toString("latin1");
      tokens.set(token, data);
      return { text: b.text, data: token };
    }),
  );
}

export function messageFromBot(m: Api.TypeMessage, botId: string, tokens: CallbackTokens, at: number): MessageEvent | undefined {
  if (!(m instanceof Api.Message) || m.out || !(m.peerId instanceof Api.PeerUser) || m.peerId.userId.toString() !== botId) return undefined;
  const ev: MessageEvent = { type: "message", id: m.id, text: m.message ?? "", buttons: keyboardButtons(m.replyMarkup, tokens), at };
  if (m.replyMarkup instanceof Api.ReplyKeyboardHide) ev.keyboardRemoved = true;
  return ev;
}

export function updateToEvent(u: unknown, botId: string, tokens: CallbackTokens, at: number): MessageEvent | undefined {
  if (u instanceof Api.UpdateNewMessage || u instanceof Api.UpdateEditMessage) return messageFromBot(u.message, botId, tokens, at);
  if (!(u instanceof Api.UpdateShortMessage) || u.out || u.userId.toString() !== botId) return undefined;
  return { type: "message", id: u.id, text: u.message, buttons: [], at };
}
