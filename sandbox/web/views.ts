// The world's users, bots and messages as the web page sees them (protocol.ts shapes).

import type { Bot, Message, User } from "../world.ts";
import type { BotView, MessageView, UserView } from "./protocol.ts";

export function userView(u: User): UserView {
  const name = [u.first_name, u.last_name].filter(Boolean).join(" ");
  return { id: u.id, name, username: u.username, phone: u.phone };
}

export function botView(b: Bot): BotView {
  return { id: b.id, username: b.username, commands: b.commands };
}

export function messageView(m: Message): MessageView {
  const view: MessageView = {
    id: m.id,
    userId: m.userId,
    fromBot: m.outgoingFromBot,
    text: m.text,
    date: m.date,
    edited: m.editDate !== undefined,
  };
  const markup = m.replyMarkup;
  if (markup && "inline_keyboard" in markup) {
    view.inline = markup.inline_keyboard.map((row) => row.map((b) => ({ text: b.text, data: b.callback_data, url: b.url })));
  } else if (markup && "keyboard" in markup) {
    view.replyKeyboard = markup.keyboard.map((row) => row.map((b) => b.text));
  } else if (markup && "remove_keyboard" in markup) {
    view.replyKeyboard = null;
  }
  return view;
}
