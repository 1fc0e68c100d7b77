/// <reference lib="dom" />
// One message as a bubble (text, "edited", time) with its inline keyboard under it, for the chat
// and the watch view. The caller makes each inline button (live in the chat, inert in the watch view).

import { clock, el } from "./dom.ts";
import type { ButtonView, MessageView } from "./protocol.ts";

export function messageElement(m: MessageView, inlineButton: (b: ButtonView) => HTMLElement): HTMLElement {
  const meta = el("div", { class: "meta" }, m.edited ? el("span", { class: "edited" }, "edited") : null, el("time", {}, clock(m.date)));
  const node = el("div", { class: m.fromBot ? "msg from-bot" : "msg from-me" }, el("div", { class: "bubble" }, el("div", { class: "text" }, m.text), meta));
  node.dataset.id = String(m.id);
  if (m.inline?.length) {
    node.append(el("div", { class: "inline-keyboard" }, ...m.inline.map((row) => el("div", { class: "inline-row" }, ...row.map(inlineButton)))));
  }
  return node;
}

/** A URL button's link, opened in a new tab; only web and tg: links, as Telegram allows (no javascript:). */
export function urlButton(b: ButtonView): HTMLElement {
  const safe = b.url !== undefined && /^(https?|tg):/i.test(b.url.trim());
  if (!safe) return el("span", { class: "inline-button", title: "not a web link" }, b.text);
  const link = el("a", { class: "inline-button", href: b.url!.trim(), title: b.url }, b.text, " ↗");
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}
