// A person in the sandbox, acting only through the control API over HTTP (/sandbox/...): what the
// conformance tests use to drive bots written with other Telegram libraries.

export interface ChatMessage {
  id: number;
  from_bot: boolean;
  text: string;
  edit_date?: number;
  buttons?: { text: string; callback_data?: string }[];
}

export class ControlUser {
  private constructor(
    private readonly controlUrl: string,
    readonly id: number,
    private readonly bot: string,
  ) {}

  static async create(controlUrl: string, bot: string, firstName: string): Promise<ControlUser> {
    const user = await call<{ id: number }>(controlUrl, "POST", "users", { first_name: firstName });
    return new ControlUser(controlUrl, user.id, bot);
  }

  send(text: string): Promise<ChatMessage> {
    return call(this.controlUrl, "POST", "send", { user_id: String(this.id), bot: this.bot, text });
  }

  /** Press the newest button whose label contains `label`; resolves with the bot's callback answer. */
  press(label: string): Promise<{ answer: { text?: string; timeout?: boolean } }> {
    return call(this.controlUrl, "POST", "press", { user_id: String(this.id), bot: this.bot, label });
  }

  block(blocked: boolean): Promise<unknown> {
    return call(this.controlUrl, "POST", "block", { user_id: String(this.id), bot: this.bot, blocked: String(blocked) });
  }

  history(): Promise<ChatMessage[]> {
    return call(this.controlUrl, "GET", "history", { user_id: String(this.id), bot: this.bot });
  }

  /** The newest bot message that satisfies `match`, waiting up to `timeoutMs` for it to appear. */
  async waitFor(match: (m: ChatMessage) => boolean, timeoutMs = 5000): Promise<ChatMessage> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = (await this.history()).reverse().find((m) => m.from_bot && match(m));
      if (found) return found;
      if (performance.now() > deadline) throw new Error(`user ${this.id}: no such bot message within ${timeoutMs} ms`);
      await Bun.sleep(10);
    }
  }
}

async function call<T>(controlUrl: string, method: "GET" | "POST", endpoint: string, params: Record<string, string>): Promise<T> {
  const query = new URLSearchParams(params);
  const res =
    method === "GET" ? await fetch(`${controlUrl}/${endpoint}?${query}`) : await fetch(`${controlUrl}/${endpoint}`, { method, body: query });
  const body = (await res.json()) as { ok: boolean; result?: T; error?: string };
  if (!body.ok) throw new Error(`${endpoint}: ${body.error}`);
  return body.result as T;
}

/** Resolves once `done()` holds, checking every few ms; rejects after `timeoutMs`. */
export async function eventually(what: string, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await Bun.sleep(5);
  }
}
