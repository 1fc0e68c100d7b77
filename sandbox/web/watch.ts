/// <reference lib="dom" />
// The operator's view of a bot: the last opening as a timeline (who got the announcement when,
// who pressed what, who got a seat) and every chat of the bot, all live.

import { el, streamError, userLabel } from "./dom.ts";
import { messageElement } from "./message.ts";
import type { MessageView, TraceRecord, UserView, WatchInit } from "./protocol.ts";
import { lastOpening } from "./timeline.ts";

/** More panes than this make the page useless rather than complete. */
const MAX_PANES = 60;

export function openWatch(root: HTMLElement, botRef: string): void {
  const title = el("div", { class: "title-name" }, "Watching…");
  const subtitle = el("div", { class: "title-sub" }, "connecting…");
  const timeline = el("section", { class: "timeline" });
  const grid = el("section", { class: "chat-grid" });
  const more = el("p", { class: "muted", hidden: true });
  root.replaceChildren(
    el(
      "div",
      { class: "watch" },
      el("header", { class: "bar" }, el("a", { class: "icon-button", href: "/", title: "All chats" }, "←"), el("div", { class: "title" }, title, subtitle)),
      el("h2", {}, "Last opening"),
      timeline,
      el("h2", {}, "Chats"),
      grid,
      more,
    ),
  );

  let init: WatchInit | undefined;
  const users = new Map<number, UserView>();
  const panes = new Map<number, { list: HTMLElement; messages: Map<number, HTMLElement> }>();
  let records: TraceRecord[] = [];

  function addPane(user: UserView, messages: MessageView[]) {
    users.set(user.id, user);
    if (panes.size >= MAX_PANES) {
      more.hidden = false;
      more.textContent = `${count(users.size - panes.size, "more chat")} not shown.`;
      return;
    }
    const list = el("div", { class: "pane-messages" });
    const pane = { list, messages: new Map<number, HTMLElement>() };
    panes.set(user.id, pane);
    const open = el("a", { href: `/?user=${user.id}&bot=${encodeURIComponent(init!.bot.username)}`, title: "Open this chat" }, userLabel(user));
    grid.append(el("article", { class: "pane" }, el("header", {}, open), list));
    for (const m of messages) upsert(m);
  }

  function upsert(m: MessageView) {
    const pane = panes.get(m.userId);
    if (!pane) return;
    const node = messageElement(m, (b) => el("span", { class: "inline-button" }, b.text));
    const old = pane.messages.get(m.id);
    if (old) old.replaceWith(node);
    else pane.list.append(node);
    pane.messages.set(m.id, node);
    pane.list.scrollTop = pane.list.scrollHeight;
  }

  let timelineQueued = false;
  function queueTimeline() {
    if (timelineQueued) return;
    timelineQueued = true;
    requestAnimationFrame(() => {
      timelineQueued = false;
      renderTimeline();
    });
  }

  function renderTimeline() {
    if (!init) return;
    const opening = lastOpening(records, init.bot.id, init.texts);
    const since = new Date(init.timeOrigin + init.recordingSince).toLocaleTimeString([], { hourCycle: "h23" });
    if (!opening) {
      timeline.replaceChildren(el("p", { class: "muted" }, `No opening seen since ${since} (the sandbox records from when its first web page opened).`));
      return;
    }
    const won = opening.rows.filter((r) => r.result?.booked).length;
    const at = new Date(init.timeOrigin + opening.t0);
    const head = el("p", {}, `Announced at ${at.toLocaleTimeString([], { hourCycle: "h23" })}.${String(at.getMilliseconds()).padStart(3, "0")} to ${count(opening.rows.filter((r) => r.announcedAt !== undefined).length, "user")}; ${won} booked. Times in ms after the first announcement.`);
    const rows = opening.rows.map((r) =>
      el(
        "tr",
        { class: r.result?.booked ? "won" : "" },
        el("td", {}, users.has(r.userId) ? userLabel(users.get(r.userId)!) : String(r.userId)),
        el("td", { class: "num" }, r.announcedAt === undefined ? "—" : ms(r.announcedAt)),
        el("td", {}, ...r.actions.map((a) => el("span", { class: "action" }, el("b", {}, ms(a.at)), " ", a.what))),
        el("td", { title: r.result?.text }, r.result ? el("span", {}, el("b", {}, ms(r.result.at)), " ", r.result.text.split("\n")[0]!) : "—"),
      ),
    );
    const table = el(
      "table",
      {},
      el("thead", {}, el("tr", {}, el("th", {}, "user"), el("th", {}, "announcement reached"), el("th", {}, "sent and pressed"), el("th", {}, "result"))),
      el("tbody", {}, ...rows),
    );
    timeline.replaceChildren(head, el("div", { class: "table-scroll" }, table));
  }

  const url = `/web/watch?bot=${encodeURIComponent(botRef)}`;
  const events = new EventSource(url);
  events.addEventListener("init", (e) => {
    init = JSON.parse((e as MessageEvent).data) as WatchInit;
    title.textContent = `Watching @${init.bot.username}`;
    subtitle.textContent = `${count(init.chats.length, "chat")} · live`;
    document.title = `Watching @${init.bot.username}`;
    grid.replaceChildren();
    panes.clear();
    users.clear();
    records = init.records;
    for (const c of init.chats) addPane(c.user, c.messages);
    renderTimeline();
  });
  events.addEventListener("user", (e) => {
    addPane(JSON.parse((e as MessageEvent).data) as UserView, []);
    subtitle.textContent = `${count(users.size, "chat")} · live`;
  });
  events.addEventListener("record", (e) => {
    const r = JSON.parse((e as MessageEvent).data) as TraceRecord;
    records.push(r);
    if (r.kind === "userMessage" || r.kind === "botMessage" || r.kind === "botEdit") upsert(r.message);
    queueTimeline();
  });
  events.addEventListener("error", async () => {
    if (events.readyState === EventSource.CLOSED) subtitle.textContent = await streamError(url);
    else subtitle.textContent = "reconnecting…";
  });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function ms(at: number): string {
  return `+${Math.round(at)} ms`;
}
