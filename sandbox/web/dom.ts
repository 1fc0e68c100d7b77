/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
// Building the page's elements. Strings become text nodes: nothing from a bot is parsed as HTML.

type Props = { class?: string; title?: string; href?: string; type?: string; hidden?: boolean };

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.title) node.title = props.title;
  if (props.href && node instanceof HTMLAnchorElement) node.href = props.href;
  if (props.type && node instanceof HTMLButtonElement) node.type = props.type as HTMLButtonElement["type"];
  if (props.hidden) node.hidden = true;
  for (const c of children) if (c !== null && c !== undefined) node.append(c); // append(string) makes a text node
  return node;
}

export async function post<T>(path: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(json.error ?? `${res.status} ${res.statusText}`);
  return json as T;
}

/** Why an event stream could not open: the server's JSON error, read by a plain request. */
export async function streamError(url: string): Promise<string> {
  const ctl = new AbortController();
  try {
    const res = await fetch(url, { signal: ctl.signal });
    if (res.ok) return "the connection to the sandbox was lost; reload to try again";
    return ((await res.json()) as { error?: string }).error ?? `${res.status} ${res.statusText}`;
  } catch {
    return "the sandbox is not reachable (is it still running?)";
  } finally {
    ctl.abort();
  }
}

export function clock(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

export function userLabel(u: { name: string; username?: string; phone?: string }): string {
  const handle = u.username ? `@${u.username}` : u.phone;
  return handle ? `${u.name} (${handle})` : u.name;
}
