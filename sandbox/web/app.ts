/// <reference lib="dom" />
// The page's entry: `/?user=…` is a chat, `/?watch=<bot>` the operator's view, `/` the picker.

import { openChat } from "./chat.ts";
import { openPicker } from "./picker.ts";
import { openWatch } from "./watch.ts";

/** A query parameter as typed: `?user=+7999…` keeps its "+" (URLSearchParams would make it a space). */
function param(name: string): string | undefined {
  for (const pair of location.search.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return decodeURIComponent(eq < 0 ? "" : pair.slice(eq + 1));
  }
  return undefined;
}

const root = document.getElementById("app")!;
const user = param("user");
const watch = param("watch");
if (user) openChat(root, user, param("bot") ?? "");
else if (watch !== undefined) openWatch(root, watch);
else openPicker(root);
