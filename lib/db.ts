// The bot's SQLite database, the referee: a booking is one transaction that succeeds only while
// seats remain, and a user books a transport at most once. Times are epoch ms.

import { Database } from "bun:sqlite";

export type TransportSeed = { from_city: string; to_city: string; departure: string; seats: number };
export type TransportRow = TransportSeed & { id: number; day: string | null; test_run_id: number | null; owner_id: number | null; booked: number };
type Stamps = Record<"sms_at" | "start_at" | "select_at" | "confirm_at", number | null>;
type Stages = Record<"sms_to_start_ms" | "start_to_select_ms" | "select_to_confirm_ms" | "total_ms", number | null>;
export type TestRunRow = Stamps & Stages & { id: number; user_id: number; created_at: number; status: "waiting" | "open" | "done" | "abandoned" };
export type NamedRun = TestRunRow & { first_name: string | null; username: string | null };
type AnnouncementStatus = "pending" | "sent" | "blocked" | "failed";

const MIGRATIONS = [
  `CREATE TABLE users (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, username TEXT,
    active INTEGER NOT NULL DEFAULT 1, first_seen REAL NOT NULL, last_seen REAL NOT NULL);
  CREATE TABLE test_runs (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, created_at REAL NOT NULL,
    sms_at REAL, start_at REAL, select_at REAL, confirm_at REAL, status TEXT NOT NULL DEFAULT 'waiting',
    sms_to_start_ms REAL, start_to_select_ms REAL, select_to_confirm_ms REAL, total_ms REAL);
  CREATE INDEX test_runs_user ON test_runs(user_id, status);
  CREATE TABLE transports (id INTEGER PRIMARY KEY, day TEXT, test_run_id INTEGER REFERENCES test_runs(id), owner_id INTEGER,
    from_city TEXT NOT NULL, to_city TEXT NOT NULL, departure TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats > 0),
    booked INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= seats),
    CHECK ((day IS NULL) <> (test_run_id IS NULL)));
  CREATE INDEX transports_day ON transports(day);
  CREATE INDEX transports_run ON transports(test_run_id);
  CREATE TABLE bookings (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, transport_id INTEGER NOT NULL REFERENCES transports(id),
    created_at REAL NOT NULL, UNIQUE (user_id, transport_id));
  CREATE INDEX bookings_transport ON bookings(transport_id);
  CREATE TABLE selections (user_id INTEGER PRIMARY KEY, transport_id INTEGER NOT NULL, selected_at REAL NOT NULL);
  CREATE TABLE openings (day TEXT PRIMARY KEY, scheduled_at REAL NOT NULL, opened_at REAL NOT NULL);
  CREATE TABLE announcements (day TEXT NOT NULL, user_id INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, sent_at REAL, error TEXT, PRIMARY KEY (day, user_id));
  CREATE INDEX announcements_pending ON announcements(day, status);`,
  // When the user was told of each booking (null: the result message is still owed).
  `ALTER TABLE bookings ADD COLUMN told_at REAL;
  UPDATE bookings SET told_at = created_at;
  CREATE INDEX bookings_untold ON bookings(created_at) WHERE told_at IS NULL;`,
];

type Param = number | string | null;

export class BotDb {
  private readonly db: Database;

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
    const version = this.one<{ user_version: number }>("PRAGMA user_version")!.user_version;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => this.db.exec(`${MIGRATIONS[v]}; PRAGMA user_version = ${v + 1}`))();
    }
  }

  readonly close = () => this.db.close();

  // db.query() compiles each statement once and caches it by its SQL text.
  private readonly one = <Row>(sql: string, ...params: Param[]) => this.db.query<Row, Param[]>(sql).get(...params);
  private readonly all = <Row>(sql: string, ...params: Param[]) => this.db.query<Row, Param[]>(sql).all(...params);
  private readonly write = (sql: string, ...params: Param[]) => this.db.query<null, Param[]>(sql).run(...params).changes;

  readonly upsertUser = (id: number, firstName: string, username: string | undefined, at: number) =>
    this.write(`INSERT INTO users (id, first_name, username, active, first_seen, last_seen) VALUES (?1, ?2, ?3, 1, ?4, ?4)
      ON CONFLICT(id) DO UPDATE SET first_name = excluded.first_name, username = excluded.username, active = 1, last_seen = excluded.last_seen`,
      id, firstName, username ?? null, at);
  readonly setInactive = (id: number) => this.write(`UPDATE users SET active = 0 WHERE id = ?`, id);

  readonly getTransport = (id: number) => this.one<TransportRow>(`SELECT * FROM transports WHERE id = ?`, id);
  readonly dayTransports = (day: string) => this.all<TransportRow>(`SELECT * FROM transports WHERE day = ? ORDER BY id`, day);
  readonly runTransports = (runId: number) => this.all<TransportRow>(`SELECT * FROM transports WHERE test_run_id = ? ORDER BY id`, runId);

  /** Takes a seat for the user, atomically: exactly `seats` bookings ever succeed per transport. */
  book(userId: number, transportId: number, at: number): "booked" | "soldOut" | "already" {
    return this.db.transaction(() => {
      if (this.hasBooking(userId, transportId)) return "already";
      if (!this.write(`UPDATE transports SET booked = booked + 1 WHERE id = ? AND booked < seats`, transportId)) return "soldOut";
      this.write(`INSERT INTO bookings (user_id, transport_id, created_at) VALUES (?, ?, ?)`, userId, transportId, at);
      return "booked";
    })();
  }

  readonly hasBooking = (userId: number, transportId: number) =>
    this.one(`SELECT 1 FROM bookings WHERE user_id = ? AND transport_id = ?`, userId, transportId) !== null;
  readonly bookedTransports = (userId: number, sinceMs: number) =>
    this.all<TransportRow>(`SELECT t.* FROM bookings b JOIN transports t ON t.id = b.transport_id
      WHERE b.user_id = ? AND b.created_at >= ? ORDER BY b.created_at`, userId, sinceMs);
  readonly markTold = (userId: number, transportId: number, at: number) =>
    this.write(`UPDATE bookings SET told_at = ? WHERE user_id = ? AND transport_id = ?`, at, userId, transportId);
  readonly untoldBookings = (sinceMs: number) =>
    this.all<{ user_id: number; transport_id: number }>(`SELECT user_id, transport_id FROM bookings
      WHERE told_at IS NULL AND created_at >= ? ORDER BY id`, sinceMs);

  readonly setSelection = (userId: number, transportId: number, at: number) =>
    this.write(`INSERT INTO selections (user_id, transport_id, selected_at) VALUES (?, ?, ?)
      ON CONFLICT(user_id) DO UPDATE SET transport_id = excluded.transport_id, selected_at = excluded.selected_at`, userId, transportId, at);
  readonly selectedTransport = (userId: number) =>
    this.one<{ transport_id: number }>(`SELECT transport_id FROM selections WHERE user_id = ?`, userId)?.transport_id;
  readonly clearSelection = (userId: number) => this.write(`DELETE FROM selections WHERE user_id = ?`, userId);

  /** A new run for the user with its own transports; any unfinished run of theirs is abandoned. */
  createTestRun(userId: number, at: number, seed: readonly TransportSeed[]): number {
    return this.db.transaction(() => {
      this.write(`UPDATE test_runs SET status = 'abandoned' WHERE user_id = ? AND status IN ('waiting', 'open')`, userId);
      const runId = this.one<{ id: number }>(`INSERT INTO test_runs (user_id, created_at) VALUES (?, ?) RETURNING id`, userId, at)!.id;
      for (const t of seed) {
        this.write(`INSERT INTO transports (test_run_id, owner_id, from_city, to_city, departure, seats) VALUES (?, ?, ?, ?, ?, ?)`,
          runId, userId, t.from_city, t.to_city, t.departure, t.seats);
      }
      return runId;
    })();
  }

  readonly getRun = (id: number) => this.one<TestRunRow>(`SELECT * FROM test_runs WHERE id = ?`, id);
  readonly activeRun = (userId: number) =>
    this.one<TestRunRow>(`SELECT * FROM test_runs WHERE user_id = ? AND status IN ('waiting', 'open') ORDER BY id DESC LIMIT 1`, userId);
  readonly runSmsSent = (runId: number, at: number) =>
    this.write(`UPDATE test_runs SET sms_at = ?, status = 'open' WHERE id = ? AND status = 'waiting'`, at, runId) > 0;
  /** Stamps the run's first /start or first choice; later ones do not count. */
  readonly runStamp = (runId: number, stage: "start_at" | "select_at", at: number) =>
    this.write(`UPDATE test_runs SET ${stage} = ? WHERE id = ? AND status = 'open' AND ${stage} IS NULL`, at, runId) > 0;
  /** Finishes the run with its stage times; a skipped stage (no /start) counts as zero. */
  readonly runDone = (runId: number, at: number) =>
    this.write(`UPDATE test_runs SET confirm_at = ?1, status = 'done',
      sms_to_start_ms = COALESCE(start_at, sms_at) - sms_at,
      start_to_select_ms = COALESCE(select_at, start_at, sms_at) - COALESCE(start_at, sms_at),
      select_to_confirm_ms = ?1 - COALESCE(select_at, start_at, sms_at),
      total_ms = ?1 - sms_at
      WHERE id = ?2 AND status = 'open'`, at, runId) > 0;
  /** At start-up: runs whose SMS timer died with the old process, and open runs older than the cutoff. */
  readonly abandonStaleRuns = (openBeforeMs: number) =>
    this.write(`UPDATE test_runs SET status = 'abandoned' WHERE status = 'waiting' OR (status = 'open' AND sms_at < ?)`, openBeforeMs);
  readonly doneRuns = () =>
    this.all<NamedRun>(`SELECT r.*, u.first_name, u.username FROM test_runs r LEFT JOIN users u ON u.id = r.user_id
      WHERE r.status = 'done' ORDER BY r.total_ms`);

  /** The opening, the day's transports and one pending announcement per active user; false if the day was open already. */
  openDay(day: string, scheduledAt: number, openedAt: number, seed: readonly TransportSeed[]): boolean {
    return this.db.transaction(() => {
      if (!this.write(`INSERT OR IGNORE INTO openings (day, scheduled_at, opened_at) VALUES (?, ?, ?)`, day, scheduledAt, openedAt)) return false;
      if (!this.one(`SELECT 1 FROM transports WHERE day = ?`, day)) {
        for (const t of seed) {
          this.write(`INSERT INTO transports (day, from_city, to_city, departure, seats) VALUES (?, ?, ?, ?, ?)`, day, t.from_city, t.to_city, t.departure, t.seats);
        }
      }
      this.write(`INSERT OR IGNORE INTO announcements (day, user_id) SELECT ?, id FROM users WHERE active = 1`, day);
      return true;
    })();
  }

  readonly pendingAnnouncements = (day: string) =>
    this.all<{ user_id: number }>(`SELECT user_id FROM announcements WHERE day = ? AND status = 'pending' ORDER BY user_id`, day)
      .map((r) => r.user_id);
  readonly markAnnouncement = (day: string, userId: number, status: AnnouncementStatus, at: number | null) =>
    this.write(`UPDATE announcements SET status = ?, sent_at = ?, attempts = attempts + 1 WHERE day = ? AND user_id = ?`, status, at, day, userId);

  readonly announcementCounts = (day: string): Partial<Record<AnnouncementStatus, number>> =>
    Object.fromEntries(this.all<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM announcements WHERE day = ? GROUP BY status`, day)
      .map((r) => [r.status, r.n]));

  dayStats(day: string) {
    type Counts = Record<"usersTotal" | "usersActive" | "transports" | "seats" | "sold" | "bookingsToday", number>;
    return this.one<Counts & Record<"openedAt" | "first" | "last", number | null>>(`SELECT (SELECT opened_at FROM openings WHERE day = ?1) AS openedAt,
      (SELECT COUNT(*) FROM users) AS usersTotal, (SELECT COALESCE(SUM(active), 0) FROM users) AS usersActive,
      (SELECT COUNT(*) FROM transports WHERE day = ?1) AS transports, (SELECT COALESCE(SUM(seats), 0) FROM transports WHERE day = ?1) AS seats,
      (SELECT COALESCE(SUM(booked), 0) FROM transports WHERE day = ?1) AS sold,
      COUNT(*) AS bookingsToday, MIN(b.created_at) AS first, MAX(b.created_at) AS last
      FROM bookings b JOIN transports t ON t.id = b.transport_id WHERE t.day = ?1`, day)!;
  }
}
