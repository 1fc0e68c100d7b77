// The bot's SQLite database: schema, migrations and every query. The database is the referee:
// a booking is one transaction that succeeds only while seats remain, and a user books a
// transport at most once (a UNIQUE constraint, not an `if`). Times are epoch ms (fractional).

import { Database, type Statement } from "bun:sqlite";

export interface TransportSeed {
  from_city: string;
  to_city: string;
  departure: string; // "HH:MM"
  seats: number;
}

export interface TransportRow extends TransportSeed {
  id: number;
  /** "YYYY-MM-DD" for the daily transports; null for test transports. */
  day: string | null;
  test_run_id: number | null;
  owner_id: number | null;
  booked: number;
}

export interface UserRow {
  id: number;
  first_name: string;
  username: string | null;
  active: number;
  first_seen: number;
  last_seen: number;
}

export type TestRunStatus = "waiting" | "open" | "done" | "abandoned";

export interface TestRunRow {
  id: number;
  user_id: number;
  created_at: number;
  sms_at: number | null;
  start_at: number | null;
  select_at: number | null;
  confirm_at: number | null;
  status: TestRunStatus;
  sms_to_start_ms: number | null;
  start_to_select_ms: number | null;
  select_to_confirm_ms: number | null;
  total_ms: number | null;
}

export interface OpeningRow {
  day: string;
  scheduled_at: number;
  opened_at: number;
}

export type AnnouncementStatus = "pending" | "sent" | "blocked" | "failed";

export type BookResult = "booked" | "soldOut" | "already";

export interface MyBookingRow {
  transport_id: number;
  from_city: string;
  to_city: string;
  departure: string;
  day: string | null;
  test_run_id: number | null;
  created_at: number;
}

export interface TestStages {
  smsToStart: number;
  startToSelect: number;
  selectToConfirm: number;
  total: number;
}

const MIGRATIONS: string[] = [
  // 1: initial schema
  `
  CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    first_name  TEXT NOT NULL,
    username    TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    first_seen  REAL NOT NULL,
    last_seen   REAL NOT NULL
  );
  CREATE TABLE test_runs (
    id                    INTEGER PRIMARY KEY,
    user_id               INTEGER NOT NULL,
    created_at            REAL NOT NULL,
    sms_at                REAL,
    start_at              REAL,
    select_at             REAL,
    confirm_at            REAL,
    status                TEXT NOT NULL DEFAULT 'waiting',
    sms_to_start_ms       REAL,
    start_to_select_ms    REAL,
    select_to_confirm_ms  REAL,
    total_ms              REAL
  );
  CREATE INDEX test_runs_user ON test_runs(user_id, status);
  CREATE TABLE transports (
    id           INTEGER PRIMARY KEY,
    day          TEXT,
    test_run_id  INTEGER REFERENCES test_runs(id),
    owner_id     INTEGER,
    from_city    TEXT NOT NULL,
    to_city      TEXT NOT NULL,
    departure    TEXT NOT NULL,
    seats        INTEGER NOT NULL CHECK (seats > 0),
    booked       INTEGER NOT NULL DEFAULT 0 CHECK (booked >= 0 AND booked <= seats),
    CHECK ((day IS NULL) <> (test_run_id IS NULL))
  );
  CREATE INDEX transports_day ON transports(day);
  CREATE INDEX transports_run ON transports(test_run_id);
  CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    transport_id  INTEGER NOT NULL REFERENCES transports(id),
    created_at    REAL NOT NULL,
    UNIQUE (user_id, transport_id)
  );
  CREATE INDEX bookings_transport ON bookings(transport_id);
  CREATE TABLE selections (
    user_id       INTEGER PRIMARY KEY,
    transport_id  INTEGER NOT NULL,
    selected_at   REAL NOT NULL
  );
  CREATE TABLE openings (
    day           TEXT PRIMARY KEY,
    scheduled_at  REAL NOT NULL,
    opened_at     REAL NOT NULL
  );
  CREATE TABLE announcements (
    day       TEXT NOT NULL,
    user_id   INTEGER NOT NULL,
    status    TEXT NOT NULL DEFAULT 'pending',
    attempts  INTEGER NOT NULL DEFAULT 0,
    sent_at   REAL,
    error     TEXT,
    PRIMARY KEY (day, user_id)
  );
  CREATE INDEX announcements_pending ON announcements(day, status);
  `,
];

class SoldOut extends Error {}

export class BotDb {
  readonly db: Database;
  private readonly q: Record<string, Statement>;
  private readonly bookTx: (userId: number, transportId: number, at: number) => BookResult;

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.db.exec("PRAGMA foreign_keys = ON");
    this.migrate();
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      upsertUser: p(`INSERT INTO users (id, first_name, username, active, first_seen, last_seen)
        VALUES ($id, $first_name, $username, 1, $at, $at)
        ON CONFLICT(id) DO UPDATE SET first_name = excluded.first_name, username = excluded.username,
          active = 1, last_seen = excluded.last_seen`),
      setInactive: p(`UPDATE users SET active = 0 WHERE id = ?`),
      getUser: p(`SELECT * FROM users WHERE id = ?`),
      getTransport: p(`SELECT * FROM transports WHERE id = ?`),
      dayTransports: p(`SELECT * FROM transports WHERE day = ? ORDER BY id`),
      runTransports: p(`SELECT * FROM transports WHERE test_run_id = ? ORDER BY id`),
      countDay: p(`SELECT COUNT(*) AS n FROM transports WHERE day = ?`),
      insertDayTransport: p(`INSERT INTO transports (day, from_city, to_city, departure, seats) VALUES (?, ?, ?, ?, ?)`),
      insertTestTransport: p(`INSERT INTO transports (test_run_id, owner_id, from_city, to_city, departure, seats) VALUES (?, ?, ?, ?, ?, ?)`),
      insertBooking: p(`INSERT OR IGNORE INTO bookings (user_id, transport_id, created_at) VALUES (?, ?, ?)`),
      takeSeat: p(`UPDATE transports SET booked = booked + 1 WHERE id = ? AND booked < seats`),
      hasBooking: p(`SELECT 1 FROM bookings WHERE user_id = ? AND transport_id = ?`),
      myBookings: p(`SELECT b.transport_id, t.from_city, t.to_city, t.departure, t.day, t.test_run_id, b.created_at
        FROM bookings b JOIN transports t ON t.id = b.transport_id
        WHERE b.user_id = ? AND b.created_at >= ? ORDER BY b.created_at`),
      setSelection: p(`INSERT INTO selections (user_id, transport_id, selected_at) VALUES (?, ?, ?)
        ON CONFLICT(user_id) DO UPDATE SET transport_id = excluded.transport_id, selected_at = excluded.selected_at`),
      getSelection: p(`SELECT transport_id, selected_at FROM selections WHERE user_id = ?`),
      clearSelection: p(`DELETE FROM selections WHERE user_id = ?`),
      insertRun: p(`INSERT INTO test_runs (user_id, created_at) VALUES (?, ?)`),
      abandonUserRuns: p(`UPDATE test_runs SET status = 'abandoned' WHERE user_id = ? AND status IN ('waiting', 'open')`),
      activeRun: p(`SELECT * FROM test_runs WHERE user_id = ? AND status IN ('waiting', 'open') ORDER BY id DESC LIMIT 1`),
      getRun: p(`SELECT * FROM test_runs WHERE id = ?`),
      runSmsSent: p(`UPDATE test_runs SET sms_at = ?, status = 'open' WHERE id = ? AND status = 'waiting'`),
      runStart: p(`UPDATE test_runs SET start_at = ? WHERE id = ? AND status = 'open' AND start_at IS NULL`),
      runSelect: p(`UPDATE test_runs SET select_at = ? WHERE id = ? AND status = 'open' AND select_at IS NULL`),
      runDone: p(`UPDATE test_runs SET confirm_at = $at, status = 'done', sms_to_start_ms = $a, start_to_select_ms = $b,
        select_to_confirm_ms = $c, total_ms = $total WHERE id = $id AND status = 'open'`),
      abandonWaiting: p(`UPDATE test_runs SET status = 'abandoned' WHERE status = 'waiting' OR (status = 'open' AND sms_at < ?)`),
      getOpening: p(`SELECT * FROM openings WHERE day = ?`),
      insertOpening: p(`INSERT OR IGNORE INTO openings (day, scheduled_at, opened_at) VALUES (?, ?, ?)`),
      createAnnouncements: p(`INSERT OR IGNORE INTO announcements (day, user_id) SELECT ?, id FROM users WHERE active = 1`),
      pendingAnnouncements: p(`SELECT user_id FROM announcements WHERE day = ? AND status = 'pending' ORDER BY user_id`),
      markAnnouncement: p(`UPDATE announcements SET status = ?, sent_at = ?, error = ?, attempts = attempts + 1 WHERE day = ? AND user_id = ?`),
      announcementCounts: p(`SELECT status, COUNT(*) AS n FROM announcements WHERE day = ? GROUP BY status`),
      countUsers: p(`SELECT COUNT(*) AS total, COALESCE(SUM(active), 0) AS active FROM users`),
      daySeats: p(`SELECT COUNT(*) AS transports, COALESCE(SUM(seats), 0) AS seats, COALESCE(SUM(booked), 0) AS sold
        FROM transports WHERE day = ?`),
      daySales: p(`SELECT COUNT(*) AS n, MIN(b.created_at) AS first, MAX(b.created_at) AS last
        FROM bookings b JOIN transports t ON t.id = b.transport_id WHERE t.day = ?`),
      doneRuns: p(`SELECT r.*, u.first_name, u.username FROM test_runs r LEFT JOIN users u ON u.id = r.user_id
        WHERE r.status = 'done' ORDER BY r.total_ms`),
    };
    this.bookTx = this.db.transaction((userId: number, transportId: number, at: number): BookResult => {
      if (this.q.insertBooking!.run(userId, transportId, at).changes === 0) return "already";
      if (this.q.takeSeat!.run(transportId).changes === 0) throw new SoldOut();
      return "booked";
    });
  }

  private migrate(): void {
    const version = (this.db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.exec(`PRAGMA user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- users ----

  upsertUser(id: number, firstName: string, username: string | undefined, at: number): void {
    this.q.upsertUser!.run({ id, first_name: firstName, username: username ?? null, at });
  }

  setInactive(id: number): void {
    this.q.setInactive!.run(id);
  }

  getUser(id: number): UserRow | null {
    return this.q.getUser!.get(id) as UserRow | null;
  }

  // ---- transports and bookings ----

  getTransport(id: number): TransportRow | null {
    return this.q.getTransport!.get(id) as TransportRow | null;
  }

  dayTransports(day: string): TransportRow[] {
    return this.q.dayTransports!.all(day) as TransportRow[];
  }

  runTransports(runId: number): TransportRow[] {
    return this.q.runTransports!.all(runId) as TransportRow[];
  }

  /** Creates the day's transports from the seed list unless the day already has them. */
  ensureDayTransports(day: string, seed: readonly TransportSeed[]): boolean {
    return this.db.transaction(() => {
      if ((this.q.countDay!.get(day) as { n: number }).n > 0) return false;
      for (const t of seed) this.q.insertDayTransport!.run(day, t.from_city, t.to_city, t.departure, t.seats);
      return true;
    })();
  }

  /** Takes a seat for the user, atomically: exactly `seats` bookings ever succeed per transport. */
  book(userId: number, transportId: number, at: number): BookResult {
    try {
      return this.bookTx(userId, transportId, at);
    } catch (e) {
      if (e instanceof SoldOut) return "soldOut";
      throw e;
    }
  }

  hasBooking(userId: number, transportId: number): boolean {
    return this.q.hasBooking!.get(userId, transportId) !== null;
  }

  bookingsOf(userId: number, sinceMs: number): MyBookingRow[] {
    return this.q.myBookings!.all(userId, sinceMs) as MyBookingRow[];
  }

  setSelection(userId: number, transportId: number, at: number): void {
    this.q.setSelection!.run(userId, transportId, at);
  }

  getSelection(userId: number): { transport_id: number; selected_at: number } | null {
    return this.q.getSelection!.get(userId) as { transport_id: number; selected_at: number } | null;
  }

  clearSelection(userId: number): void {
    this.q.clearSelection!.run(userId);
  }

  // ---- test runs ----

  /** A new run for the user with its own transports; any unfinished run of theirs is abandoned. */
  createTestRun(userId: number, at: number, seed: readonly TransportSeed[]): { run: TestRunRow; transports: TransportRow[] } {
    return this.db.transaction(() => {
      this.q.abandonUserRuns!.run(userId);
      const runId = Number(this.q.insertRun!.run(userId, at).lastInsertRowid);
      for (const t of seed) this.q.insertTestTransport!.run(runId, userId, t.from_city, t.to_city, t.departure, t.seats);
      return { run: this.getRun(runId)!, transports: this.runTransports(runId) };
    })();
  }

  getRun(id: number): TestRunRow | null {
    return this.q.getRun!.get(id) as TestRunRow | null;
  }

  activeRun(userId: number): TestRunRow | null {
    return this.q.activeRun!.get(userId) as TestRunRow | null;
  }

  runSmsSent(runId: number, at: number): boolean {
    return this.q.runSmsSent!.run(at, runId).changes > 0;
  }

  runStart(runId: number, at: number): boolean {
    return this.q.runStart!.run(at, runId).changes > 0;
  }

  runSelect(runId: number, at: number): boolean {
    return this.q.runSelect!.run(at, runId).changes > 0;
  }

  runDone(runId: number, at: number, s: TestStages): boolean {
    return this.q.runDone!.run({ id: runId, at, a: s.smsToStart, b: s.startToSelect, c: s.selectToConfirm, total: s.total }).changes > 0;
  }

  /** At start-up: runs whose SMS timer died with the old process, and open runs older than the cutoff. */
  abandonStaleRuns(openBeforeMs: number): number {
    return this.q.abandonWaiting!.run(openBeforeMs).changes;
  }

  doneRuns(): (TestRunRow & { first_name: string | null; username: string | null })[] {
    return this.q.doneRuns!.all() as (TestRunRow & { first_name: string | null; username: string | null })[];
  }

  // ---- openings and announcements ----

  getOpening(day: string): OpeningRow | null {
    return this.q.getOpening!.get(day) as OpeningRow | null;
  }

  /**
   * Opens the day in one transaction: the opening row, the day's transports and one pending
   * announcement per active user. Idempotent: returns false when the day was already open.
   */
  openDay(day: string, scheduledAt: number, openedAt: number, seed: readonly TransportSeed[]): boolean {
    return this.db.transaction(() => {
      if (this.q.insertOpening!.run(day, scheduledAt, openedAt).changes === 0) return false;
      this.ensureDayTransports(day, seed);
      this.q.createAnnouncements!.run(day);
      return true;
    })();
  }

  pendingAnnouncements(day: string): number[] {
    return (this.q.pendingAnnouncements!.all(day) as { user_id: number }[]).map((r) => r.user_id);
  }

  markAnnouncement(day: string, userId: number, status: AnnouncementStatus, at: number | null, error?: string): void {
    this.q.markAnnouncement!.run(status, at, error ?? null, day, userId);
  }

  announcementCounts(day: string): Partial<Record<AnnouncementStatus, number>> {
    const out: Partial<Record<AnnouncementStatus, number>> = {};
    for (const r of this.q.announcementCounts!.all(day) as { status: AnnouncementStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  // ---- stats ----

  userCounts(): { total: number; active: number } {
    return this.q.countUsers!.get() as { total: number; active: number };
  }

  daySeats(day: string): { transports: number; seats: number; sold: number } {
    return this.q.daySeats!.get(day) as { transports: number; seats: number; sold: number };
  }

  daySales(day: string): { n: number; first: number | null; last: number | null } {
    return this.q.daySales!.get(day) as { n: number; first: number | null; last: number | null };
  }
}

export function openDb(path: string): BotDb {
  return new BotDb(path);
}
