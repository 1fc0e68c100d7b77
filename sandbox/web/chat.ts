/// <reference lib="dom" />
// A chat with a bot as a Telegram app shows it: live messages and edits, inline keyboards under
// their message, the reply keyboard under the input, callback answers as a toast or an alert.

import { el, post, streamError, userLabel } from "./dom.ts";
import { messageElement, urlButton } from "./message.ts";
import type { ButtonView, CallbackAnswerView, ChatInit, MessageView } from "./protocol.ts";

export function openChat(root: HTMLElement, userRef: string, botRef: string): void {
  const title = el("div", { class: "title-name" }, "…");
  const subtitle = el("div", { class: "title-sub" }, "connecting…");
  const menu = el("div", { class: "menu", hidden: true });
  const menuButton = el("button", { class: "icon-button", title: "Menu", type: "button" }, "⋮");
  const banner = el("div", { class: "banner", hidden: true });
  const list = el("main", { class: "messages" });
  const commands = el("div", { class: "commands" });
  const input = el("input", { class: "composer-input" });
  input.placeholder = "Message";
  input.autocomplete = "off";
  const composer = el("form", { class: "composer" }, input, el("button", { class: "send", type: "submit", title: "Send" }, "➤"));
  const replyKeyboard = el("div", { class: "reply-keyboard", hidden: true });
  const toast = el("div", { class: "toast", hidden: true });
  const alertText = el("p");
  const alertBox = el("dialog", { class: "alert" }, alertText, el("form", {}, el("button", { type: "submit" }, "OK")));
  (alertBox.lastChild as HTMLFormElement).method = "dialog";
  root.replaceChildren(
    el(
      "div",
      { class: "chat" },
      el("header", { class: "bar" }, el("a", { class: "icon-button", href: "/", title: "All chats" }, "←"), el("div", { class: "title" }, title, subtitle), menuButton, menu),
      banner,
      list,
      commands,
      composer,
      replyKeyboard,
      toast,
      alertBox,
    ),
  );

  let chat: ChatInit | undefined;
  const messages = new Map<number, { view: MessageView; node: HTMLElement }>();

  const ids = () => (chat ? { user: chat.user.id, bot: chat.bot.id } : undefined);

  async function send(text: string) {
    const who = ids();
    if (!who || !text.trim()) return;
    try {
      upsert(await post<MessageView>("/web/send", { ...who, text }));
      setBlocked(false); // writing to a bot unblocks it
    } catch (e) {
      showToast((e as Error).message);
    }
  }

  async function press(m: MessageView, b: ButtonView, button: HTMLButtonElement) {
    const who = ids();
    if (!who || b.data === undefined) return;
    button.classList.add("pressed");
    try {
      showAnswer(await post<CallbackAnswerView>("/web/press", { ...who, message_id: m.id, data: b.data }));
    } catch (e) {
      showToast((e as Error).message);
    } finally {
      button.classList.remove("pressed");
    }
  }

  function showAnswer(a: CallbackAnswerView) {
    if (a.timeout) showToast("The bot did not answer the button press in time");
    else if (a.text && a.alert) {
      alertText.textContent = a.text;
      alertBox.showModal();
    } else if (a.text) showToast(a.text);
    else if (a.url) showToast(`The bot opens ${a.url}`);
  }

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  function showToast(text: string) {
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.hidden = true), 2500);
  }

  function messageNode(m: MessageView): HTMLElement {
    return messageElement(m, (b) => {
      if (b.data === undefined) return urlButton(b);
      const button = el("button", { class: "inline-button", type: "button" }, b.text);
      button.addEventListener("click", () => press(m, b, button));
      return button;
    });
  }

  function upsert(m: MessageView) {
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const node = messageNode(m);
    const old = messages.get(m.id);
    if (old) old.node.replaceWith(node);
    else {
      const next = [...messages.keys()].filter((id) => id > m.id).sort((a, b) => a - b)[0];
      list.insertBefore(node, next === undefined ? null : messages.get(next)!.node);
    }
    messages.set(m.id, { view: m, node });
    renderReplyKeyboard();
    if (!old && nearBottom) list.scrollTop = list.scrollHeight;
  }

  function remove(ids: number[]) {
    for (const id of ids) {
      messages.get(id)?.node.remove();
      messages.delete(id);
    }
    renderReplyKeyboard();
  }

  /** The newest bot message that set or removed a reply keyboard decides what is under the input. */
  function renderReplyKeyboard() {
    let rows: string[][] | null = null;
    for (const id of [...messages.keys()].sort((a, b) => a - b)) {
      const v = messages.get(id)!.view;
      if (v.fromBot && v.replyKeyboard !== undefined) rows = v.replyKeyboard;
    }
    replyKeyboard.hidden = !rows?.length;
    replyKeyboard.replaceChildren(
      ...(rows ?? []).map((row) =>
        el(
          "div",
          { class: "reply-row" },
          ...row.map((text) => {
            const b = el("button", { class: "reply-button", type: "button" }, text);
            b.addEventListener("click", () => send(text));
            return b;
          }),
        ),
      ),
    );
  }

  function renderCommands(c: ChatInit) {
    const names = ["start", ...c.bot.commands.map((x) => x.command).filter((x) => x !== "start")];
    commands.replaceChildren(
      ...names.map((name) => {
        const description = c.bot.commands.find((x) => x.command === name)?.description;
        const b = el("button", { class: "command", type: "button", title: description }, `/${name}`);
        b.addEventListener("click", () => send(`/${name}`));
        return b;
      }),
    );
  }

  function setBlocked(blocked: boolean) {
    if (!chat) return;
    chat.blocked = blocked;
    banner.hidden = !blocked;
    banner.replaceChildren("You blocked this bot: it cannot write to you. ", unblockButton());
    renderMenu();
  }

  function unblockButton() {
    const b = el("button", { class: "link-button", type: "button" }, "Unblock");
    b.addEventListener("click", () => block(false));
    return b;
  }

  async function block(blocked: boolean) {
    const who = ids();
    if (!who) return;
    menu.hidden = true;
    try {
      setBlocked((await post<{ blocked: boolean }>("/web/block", { ...who, blocked })).blocked);
    } catch (e) {
      showToast((e as Error).message);
    }
  }

  function renderMenu() {
    if (!chat) return;
    const blockItem = el("button", { class: "menu-item", type: "button" }, chat.blocked ? "Unblock bot" : "Block bot");
    blockItem.addEventListener("click", () => block(!chat!.blocked));
    const watch = el("a", { class: "menu-item", href: `/?watch=${encodeURIComponent(chat.bot.username)}` }, "Watch all chats of this bot");
    const other = el("a", { class: "menu-item", href: "/" }, "Switch user or bot");
    menu.replaceChildren(blockItem, watch, other);
  }

  menuButton.addEventListener("click", (e) => {
    e.stopPropagation();
    menu.hidden = !menu.hidden;
  });
  document.addEventListener("click", (e) => {
    if (!menu.contains(e.target as Node)) menu.hidden = true;
  });
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    input.value = "";
    void send(text);
  });

  const url = `/web/chat?user=${encodeURIComponent(userRef)}${botRef ? `&bot=${encodeURIComponent(botRef)}` : ""}`;
  const events = new EventSource(url);
  events.addEventListener("init", (e) => {
    chat = JSON.parse((e as MessageEvent).data) as ChatInit;
    title.textContent = `@${chat.bot.username}`;
    subtitle.textContent = `bot · you are ${userLabel(chat.user)}`;
    document.title = `@${chat.bot.username} · ${chat.user.name}`;
    remove([...messages.keys()]);
    for (const m of chat.messages) upsert(m);
    list.scrollTop = list.scrollHeight;
    renderCommands(chat);
    setBlocked(chat.blocked);
    input.focus();
  });
  events.addEventListener("message", (e) => upsert(JSON.parse((e as MessageEvent).data)));
  events.addEventListener("delete", (e) => remove(JSON.parse((e as MessageEvent).data)));
  events.addEventListener("error", async () => {
    if (events.readyState === EventSource.CLOSED) subtitle.textContent = await streamError(url);
    else subtitle.textContent = "reconnecting…";
  });
}
