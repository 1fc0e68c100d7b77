/// <reference lib="dom" />
// The start page: open a chat as some user (new or existing) with some bot, or watch a bot.

import { el, userLabel } from "./dom.ts";
import type { Directory } from "./protocol.ts";

export async function openPicker(root: HTMLElement): Promise<void> {
  const dir = (await (await fetch("/web/directory")).json()) as Directory;
  const who = el("input", { class: "composer-input" });
  who.placeholder = "+79990000001, @name or a user id";
  who.required = true;
  const bot = el("select", { class: "bot-select" }, ...dir.bots.map((b) => el("option", {}, b.username)));
  const form = el("form", { class: "picker-form" }, who, bot, el("button", { class: "send", type: "submit", title: "Open the chat" }, "Open"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.href = chatHref(who.value.trim(), bot.value);
  });

  const users = dir.users.map((u) =>
    el("li", {}, el("a", { href: chatHref(u.phone ?? (u.username ? `@${u.username}` : String(u.id)), bot.value) }, userLabel(u)), ` · id ${u.id}`),
  );
  const bots = dir.bots.map((b) => el("li", {}, `@${b.username} · `, el("a", { href: `/?watch=${encodeURIComponent(b.username)}` }, "watch its chats")));
  root.replaceChildren(
    el(
      "div",
      { class: "picker" },
      el("h1", {}, "Telegram sandbox"),
      el("p", {}, "Open a chat as a user: a new phone number or @name creates that user."),
      form,
      el("h2", {}, "Users"),
      users.length ? el("ul", {}, ...users) : el("p", { class: "muted" }, "No users yet."),
      el("h2", {}, "Bots"),
      el("ul", {}, ...bots),
    ),
  );
  bot.addEventListener("change", () => {
    for (const [i, u] of dir.users.entries()) {
      const a = users[i]!.querySelector("a")!;
      a.href = chatHref(u.phone ?? (u.username ? `@${u.username}` : String(u.id)), bot.value);
    }
  });
  who.focus();
}

function chatHref(user: string, bot: string): string {
  return `/?user=${encodeURIComponent(user)}&bot=${encodeURIComponent(bot)}`;
}
