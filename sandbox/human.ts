// Acting as a person in the sandbox: send a command, press a button by its label, wait for a reply.
// Tests, the demo and the sandbox's command line use this to drive a bot as a Telegram app would.

import type { CallbackAnswer, InlineButton, Message, UserEvent, World } from "./world.ts";

export type TextMatch = string | RegExp | ((m: Message) => boolean);

function matches(m: Message, match: TextMatch): boolean {
  if (typeof match === "function") return match(m);
  return typeof match === "string" ? m.text.includes(match) : match.test(m.text);
}

export function inlineButtons(m: Message): InlineButton[] {
  return m.replyMarkup && "inline_keyboard" in m.replyMarkup ? m.replyMarkup.inline_keyboard.flat() : [];
}

export class Human {
  readonly userId: number;
  readonly botId: number;
  private readonly waiters = new Set<(e: UserEvent) => void>();
  private readonly unlisten: () => void;

  constructor(
    readonly world: World,
    userId: number,
    bot: string | number,
  ) {
    this.userId = userId;
    const b = typeof bot === "number" ? world.mustBot(bot) : world.botByUsername(bot);
    if (!b) throw new Error(`no bot @${bot} in the sandbox`);
    this.botId = b.id;
    this.unlisten = world.listen(userId, (e) => {
      for (const w of [...this.waiters]) w(e);
    });
  }

  /** A new person with a fresh account, talking to `bot`. */
  static create(world: World, bot: string | number, p: Parameters<World["createUser"]>[0] = {}): Human {
    return new Human(world, world.createUser(p).id, bot);
  }

  send(text: string): Message {
    return this.world.userSends(this.userId, this.botId, text);
  }

  /** The chat as the user sees it, oldest first. */
  history(): Message[] {
    return this.world.history(this.userId, this.botId);
  }

  lastFromBot(match?: TextMatch): Message | undefined {
    const h = this.history();
    for (let i = h.length - 1; i >= 0; i--) {
      const m = h[i]!;
      if (m.outgoingFromBot && (!match || matches(m, match))) return m;
    }
    return undefined;
  }

  /**
   * Press the button whose label contains `label`, on the newest bot message that has one (or on
   * message `messageId`). Resolves with the bot's callback answer (none for a reply keyboard).
   */
  press(label: string | RegExp, messageId?: number): Promise<CallbackAnswer> {
    const test = (b: InlineButton) => (typeof label === "string" ? b.text.includes(label) : label.test(b.text));
    const candidates = messageId !== undefined ? [this.world.getMessage(this.userId, this.botId, messageId)] : this.history().reverse();
    for (const m of candidates) {
      if (!m || !m.outgoingFromBot) continue;
      const button = inlineButtons(m).find(test);
      if (button?.callback_data !== undefined) {
        return this.world.pressButton(this.userId, this.botId, m.id, button.callback_data);
      }
      // A reply keyboard button, as a Telegram app presses it: its label is sent as a message.
      const reply = m.replyMarkup && "keyboard" in m.replyMarkup ? m.replyMarkup.keyboard.flat().find(test) : undefined;
      if (reply) {
        this.send(reply.text);
        return Promise.resolve({});
      }
      if (m.replyMarkup && "remove_keyboard" in m.replyMarkup && messageId === undefined) break;
    }
    return Promise.reject(new Error(`user ${this.userId}: no button "${label}" in the chat with the bot`));
  }

  /** Send callback data that no button carries, as a modified client could. */
  forge(data: string, messageId?: number): Promise<CallbackAnswer> {
    const id = messageId ?? this.lastFromBot()?.id ?? 1;
    return this.world.forgeCallback(this.userId, this.botId, id, data);
  }

  /**
   * Wait for a new or edited bot message matching `match` that arrives after this call
   * (or, with `{ existing: true }`, one already in the chat).
   */
  waitFor(match: TextMatch, opts: { timeoutMs?: number; existing?: boolean } = {}): Promise<Message> {
    if (opts.existing) {
      const m = this.lastFromBot(match);
      if (m) return Promise.resolve(m);
    }
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<Message>((resolve, reject) => {
      const onEvent = (e: UserEvent) => {
        if (e.type === "deleteMessages") return;
        if (e.message.botId !== this.botId || !e.message.outgoingFromBot) return;
        if (!matches(e.message, match)) return;
        clearTimeout(timer);
        this.waiters.delete(onEvent);
        resolve(e.message);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(onEvent);
        reject(new Error(`user ${this.userId}: no bot message matching ${String(match)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(onEvent);
    });
  }

  close(): void {
    this.unlisten();
    this.waiters.clear();
  }
}
