// What the sandbox's web page and its server say to each other (JSON over fetch and SSE).
// Imported by the server (server.ts) and bundled into the page (chat.ts, watch.ts).

export interface UserView {
  id: number;
  name: string;
  username?: string;
  phone?: string;
}

export interface BotView {
  id: number;
  username: string;
  commands: { command: string; description: string }[];
}

export interface ButtonView {
  text: string;
  /** Absent for URL buttons, which the page opens as links. */
  data?: string;
  url?: string;
}

export interface MessageView {
  id: number;
  userId: number;
  fromBot: boolean;
  text: string;
  /** Unix seconds. */
  date: number;
  edited: boolean;
  inline?: ButtonView[][];
  /** A reply keyboard this message sets under the input field, or null when it removes it. */
  replyKeyboard?: string[][] | null;
}

/** The first event of a chat stream. */
export interface ChatInit {
  user: UserView;
  bot: BotView;
  blocked: boolean;
  messages: MessageView[];
}

/** What the sandbox saw happen, stamped with the server's performance.now() (ms). */
export type TraceRecord =
  | { kind: "userMessage" | "botMessage" | "botEdit"; ts: number; botId: number; message: MessageView }
  | { kind: "press"; ts: number; botId: number; userId: number; messageId: number; label: string }
  /** The MTProto front wrote message `messageId` to the user's client (its chat's bot is not known). */
  | { kind: "push"; ts: number; userId: number; messageId: number };

/** How the watch view tells the opening's messages apart (substrings of the bot's texts). */
export interface WatchTexts {
  announcement: string;
  booked: string;
  soldOut: string;
}

/** The first event of a watch stream. */
export interface WatchInit {
  bot: BotView;
  texts: WatchTexts;
  chats: { user: UserView; messages: MessageView[] }[];
  records: TraceRecord[];
  /** performance.timeOrigin of the server: ts + timeOrigin is a wall-clock time in ms. */
  timeOrigin: number;
  /** ts of the first record kept (recording starts when the first page connects). */
  recordingSince: number;
}

export interface Directory {
  users: UserView[];
  bots: { id: number; username: string }[];
}

export interface CallbackAnswerView {
  text?: string;
  alert?: boolean;
  url?: string;
  timeout?: boolean;
}
