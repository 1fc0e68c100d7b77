// Every user-facing text of the bot and the client, and the patterns the client recognises them by,
// in one place so they cannot drift apart. The UI is Russian because its users are.

export const BUTTON = {
  test: "🧪 Тест",
  myBookings: "📋 Мои брони",
  confirm: "✅ Подтвердить",
  cancel: "❌ Отмена",
  back: "⬅️ Меню",
} as const;

export type TransportView = { from_city: string; to_city: string; departure: string; seats: number; booked: number };
type Route = Pick<TransportView, "from_city" | "to_city" | "departure">;

export function routeText(t: Route): string {
  return `${t.from_city} → ${t.to_city}, ${t.departure}`;
}

const TEXT_TEST_RESULT_HEAD = "🧪 Результат теста";

export const TEXT = {
  /** The "SMS": the message every user gets when booking opens. */
  announcement: "📢 Бронирование открыто! Нажмите /start и выберите перевозку.",
  testAnnouncement: "📢 Бронирование открыто (тест)! Нажмите /start и выберите перевозку.",
  menuOpen: "🚚 Выберите перевозку:",
  menuClosed: (opensAt: string) => `Бронирование откроется в ${opensAt}.`,
  menuNothingLeft: "Свободных перевозок не осталось.",
  transportButton: (t: TransportView) => `${t.from_city} → ${t.to_city} ${t.departure} (мест: ${t.seats - t.booked})`,
  confirmPromptHead: "Подтвердите бронирование",
  confirmPrompt: (t: TransportView) => `Подтвердите бронирование:\n${routeText(t)}\nСвободных мест: ${t.seats - t.booked}`,
  booked: (t: Route) => `✅ Забронировано: ${routeText(t)}`,
  soldOut: (t: Route) => `❌ Мест нет: ${routeText(t)}`,
  alreadyBooked: (t: Route) => `Вы уже забронировали: ${routeText(t)}`,
  notOpen: (opensAt: string) => `Бронирование ещё не открыто, оно откроется в ${opensAt}.`,
  cancelled: "Бронирование отменено.",
  unknownTransport: "Такой перевозки нет. Нажмите /start.",
  selectFirst: "Сначала выберите перевозку в меню. Нажмите /start.",
  staleButton: "Эта кнопка устарела. Нажмите /start.",
  noBookings: "У вас нет броней.",
  myBookings: (lines: string[]) => `📋 Ваши брони:\n${lines.join("\n")}`,
  hint: "Не понимаю. Нажмите /start, чтобы открыть меню.",
  testDisabled: "Тестовый режим выключен.",
  testStarting: (delayMs: number) => `🧪 Тест: созданы тестовые перевозки. Уведомление придёт через ${(delayMs / 1000).toFixed(1)} с.`,
  testRunning: "🧪 Тест уже идёт: дождитесь уведомления и забронируйте.",
  testResultHead: TEXT_TEST_RESULT_HEAD,
  testResult: (s: { smsToStart: number; startToSelect: number; selectToConfirm: number; total: number }) =>
    [
      `${TEXT_TEST_RESULT_HEAD}:`,
      `SMS → /start: ${s.smsToStart.toFixed(0)} мс`,
      `/start → выбор: ${s.startToSelect.toFixed(0)} мс`,
      `Выбор → подтверждение: ${s.selectToConfirm.toFixed(0)} мс`,
      `Общее время: ${s.total.toFixed(0)} мс`,
    ].join("\n"),
  adminOnly: "Команда только для администраторов.",
  adminMenu: "Администрирование:\n/admin_stats — статистика бронирований\n/admin_test_stats — статистика тестов",
} as const;

/** "11:30", or "11:30:15" when the seconds matter. */
export function hhmm(t: Temporal.PlainTime): string {
  return t.toString({ smallestUnit: t.second ? "second" : "minute" });
}

/** What the client looks for in the bot's messages: the defaults of config.yaml's `texts` (substrings, any case). */
export const RECOGNISE = {
  announcement: "Бронирование открыто",
  confirmButton: "Подтвердить",
  booked: "Забронировано",
  soldOut: "Мест нет",
  notOpen: "откроется",
  alreadyBooked: "уже забронировали",
} as const;

/** Transport button labels that say the transport is sold out (a digit before "0 мест" does not count). */
export const SOLD_OUT_LABELS = ["нет мест", "мест нет", "0 мест", "мест: 0)"];

/** Further bot texts: admin reports and small labels. Numbers arrive already rounded. */
export const BOT_TEXT = {
  testLabel: (route: string) => `${route} (тест)`,
  adminStats: (s: {
    usersTotal: number;
    usersActive: number;
    day: string;
    transports: number;
    seats: number;
    sold: number;
    bookingsToday: number;
    openedAt: string | null;
    firstSoldMs: number | null;
    lastSoldMs: number | null;
    announcements: { sent: number; pending: number; blocked: number; failed: number };
  }) =>
    [
      "📊 Статистика",
      `Пользователи: ${s.usersTotal} (активных: ${s.usersActive})`,
      `Перевозки на ${s.day}: ${s.transports}, мест: ${s.seats}, продано: ${s.sold}`,
      `Брони сегодня: ${s.bookingsToday}`,
      s.openedAt ? `Бронирование открыто в ${s.openedAt}` : "Сегодня бронирование ещё не открывалось",
      `От открытия до первой брони: ${s.firstSoldMs === null ? "—" : `${s.firstSoldMs} мс`}`,
      `От открытия до последней брони: ${s.lastSoldMs === null ? "—" : `${s.lastSoldMs} мс`}`,
      `Рассылка: отправлено ${s.announcements.sent}, в очереди ${s.announcements.pending}, ` +
        `заблокировали бота ${s.announcements.blocked}, ошибок ${s.announcements.failed}`,
    ].join("\n"),
  adminTestStatsEmpty: "🧪 Тестов ещё не было.",
  adminTestStats: (s: {
    count: number;
    total: { best: number; median: number; mean: number };
    stages: { name: "smsToStart" | "startToSelect" | "selectToConfirm"; median: number; mean: number }[];
    best: { name: string; ms: number }[];
  }) => {
    const stageName = { smsToStart: "SMS → /start", startToSelect: "/start → выбор", selectToConfirm: "Выбор → подтверждение" };
    return [
      "🧪 Статистика тестов",
      `Прогонов: ${s.count}`,
      `Общее время: лучшее ${s.total.best} мс, медиана ${s.total.median} мс, среднее ${s.total.mean} мс`,
      ...s.stages.map((st) => `${stageName[st.name]}: медиана ${st.median} мс, среднее ${st.mean} мс`),
      "Лучшие:",
      ...s.best.map((b, i) => `${i + 1}. ${b.name} — ${b.ms} мс`),
    ].join("\n");
  },
} as const;

/** What the client itself prints and sends (its stats block is the seed's, word for word). */
export const CLIENT_TEXT = {
  stats: { smsToStart: "SMS → /start:", startToSelect: "/start → выбор:", selectToConfirm: "Выбор → подтверд:", total: "Общее время:" },
  notifyBooked: (transport?: string) => `✅ Забронировано${transport ? `: ${transport}` : ""}`,
  notifyAlreadyBooked: "ℹ️ У вас уже есть бронь",
  notifyFailed: (why?: string) => `❌ Не удалось забронировать: ${why ?? "неизвестная причина"}`,
} as const;
