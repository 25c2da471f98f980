import type Database from 'better-sqlite3';
// Forward-only schema steps: MIGRATIONS[i] takes user_version i to i+1. Never edit a shipped step; append a
// new one, because operators' databases are already at the old version. Column names are a public contract
// (README): operators query them with sqlite3, so rename nothing.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sequences (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  INSERT INTO sequences (name, value) VALUES ('ticket', 0);

  -- store_id tags the tmux sessions this store spawns, so two stores sharing a socket never touch each other's.
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));

  CREATE TABLE tickets (
    key                  TEXT PRIMARY KEY,
    seq                  INTEGER NOT NULL UNIQUE CHECK (seq > 0),
    title                TEXT NOT NULL,
    body                 TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL DEFAULT 'todo'
                         CHECK (status IN ('todo', 'in_progress', 'in_review', 'done', 'blocked')),
    profile              TEXT NOT NULL,
    worker_pid           INTEGER,
    attempts             INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    human_input_required INTEGER NOT NULL DEFAULT 0 CHECK (human_input_required IN (0, 1)),
    blocked_reason       TEXT,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    CHECK (key = 'MC-' || seq)
  );
  CREATE INDEX tickets_status ON tickets (status, seq);

  CREATE TABLE runtime_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_key    TEXT NOT NULL REFERENCES tickets (key),
    host          TEXT NOT NULL,
    tmux_socket   TEXT NOT NULL,
    tmux_session  TEXT NOT NULL,
    pane_id       TEXT,
    pid           INTEGER,
    pid_start     INTEGER,
    boot_id       TEXT,
    status        TEXT NOT NULL
                  CHECK (status IN ('spawning', 'running', 'idle', 'waiting', 'exited', 'closed')),
    exit_status   INTEGER,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT,
    dead_since    TEXT,
    closed_at     TEXT,
    closed_reason TEXT,
    last_marker   TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
  );
  -- The no-duplicate-runtimes invariant lives in the schema, so no code path (or operator) can break it.
  CREATE UNIQUE INDEX runtime_sessions_one_open ON runtime_sessions (ticket_key) WHERE status <> 'closed';
  CREATE INDEX runtime_sessions_status ON runtime_sessions (status);
  CREATE INDEX runtime_sessions_ticket ON runtime_sessions (ticket_key, id);

  CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_key TEXT NOT NULL REFERENCES tickets (key),
    runtime_id INTEGER REFERENCES runtime_sessions (id),
    kind       TEXT NOT NULL CHECK (kind IN ('prompt', 'operator')),
    body       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'sent', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    -- Names the tmux buffer of the delivery in flight, so crash recovery never pastes twice.
    delivery_token TEXT,
    created_at TEXT NOT NULL,
    sent_at    TEXT
  );
  CREATE INDEX messages_ticket_status ON messages (ticket_key, status);
  CREATE INDEX messages_runtime ON messages (runtime_id, status);
  CREATE INDEX messages_open ON messages (status) WHERE status IN ('pending', 'delivering');

  -- No foreign keys here: the log must accept every entry, including ones about rows that failed to exist.
  CREATE TABLE events (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    at                   TEXT NOT NULL,
    ticket_key           TEXT,
    runtime_id           INTEGER,
    actor                TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('ok', 'warning', 'error')),
    summary              TEXT NOT NULL,
    root_cause           TEXT,
    safe_retry           TEXT,
    stop_condition       TEXT,
    human_input_required INTEGER NOT NULL DEFAULT 0 CHECK (human_input_required IN (0, 1)),
    next_actions         TEXT NOT NULL DEFAULT '[]',
    artifacts            TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX events_ticket ON events (ticket_key, id);

  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  `,
  // 2: work isolation. A runtime records the directory its agent runs in and the branch it works on; the
  // workspaces table holds every worktree or pool slot mcc made, and who holds it. The unique indexes are the
  // rule that two pickups never get the same directory or branch, whatever code path (or operator) writes.
  `
  ALTER TABLE runtime_sessions ADD COLUMN workdir TEXT;
  ALTER TABLE runtime_sessions ADD COLUMN branch TEXT;

  CREATE TABLE workspaces (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    repo       TEXT NOT NULL,
    path       TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('worktree', 'pool')),
    slot       TEXT,
    branch     TEXT,
    base       TEXT NOT NULL,
    ticket_key TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT,
    CHECK ((mode = 'pool') = (slot IS NOT NULL))
  );
  CREATE UNIQUE INDEX workspaces_one_path ON workspaces (path) WHERE removed_at IS NULL;
  CREATE UNIQUE INDEX workspaces_one_branch ON workspaces (repo, branch) WHERE removed_at IS NULL AND branch IS NOT NULL;
  CREATE INDEX workspaces_ticket ON workspaces (ticket_key);
  `,
  // Review gate: expected check-in, and the review checks of a REVIEW: marker (run once, remembered here).
  `
  ALTER TABLE tickets ADD COLUMN check_in_seconds INTEGER CHECK (check_in_seconds IS NULL OR check_in_seconds > 0);
  ALTER TABLE tickets ADD COLUMN check_in_at TEXT;
  ALTER TABLE tickets ADD COLUMN review_checks TEXT
    CHECK (review_checks IS NULL OR review_checks IN ('pending', 'running', 'ok', 'failed'));
  ALTER TABLE tickets ADD COLUMN review_checks_at TEXT;
  `,
  // Readiness after a submit: the screen the last submit was typed onto, and when. An agent whose screen still
  // shows it (frozen, or slow to take input) gets nothing more typed until it reacts.
  `
  ALTER TABLE runtime_sessions ADD COLUMN submitted_screen TEXT;
  ALTER TABLE runtime_sessions ADD COLUMN submitted_at TEXT;
  `,
  // 5: the command queue: an operator's action on a runtime of another host waits here for that host's daemon.
  `
  CREATE TABLE commands (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    target_host TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('retire', 'kill', 'interrupt', 'send', 'adopt', 'pickup')),
    ticket_key  TEXT REFERENCES tickets (key),
    args        TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'expired')),
    result      TEXT,
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    claimed_at  TEXT,
    claimed_by  TEXT,
    finished_at TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    CHECK (status <> 'running' OR (claimed_by IS NOT NULL AND claimed_at IS NOT NULL)),
    CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL))
  );
  CREATE INDEX commands_queue ON commands (target_host, status, id);
  CREATE INDEX commands_ticket ON commands (ticket_key, id);
  `,
  // 6: several hosts, one store. Each host's daemon keeps its row's heartbeat fresh; `epoch` fences a host
  // that `mcc host forget` gave up on, so its daemon, should it come back, retires what it left instead of
  // resuming it. runtime_sessions.host holds a hosts.id (rows older than this step hold a plain hostname, so
  // there is no foreign key).
  `
  CREATE TABLE hosts (
    id           TEXT PRIMARY KEY,
    boot_id      TEXT,
    mcc_version  TEXT NOT NULL,
    tmux_socket  TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    labels       TEXT NOT NULL DEFAULT '[]',
    ssh_target   TEXT,
    epoch        INTEGER NOT NULL DEFAULT 1 CHECK (epoch >= 1),
    forgotten_at TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  );
  CREATE INDEX runtime_sessions_host ON runtime_sessions (host, status);
  `,
  // 7: a revision of what consoles and passes show (tickets, runtimes, messages), moved by triggers whatever
  // writes them: the change token follows it, so a lease renewal or a heartbeat (every daemon, every second)
  // no longer makes every console rescan 50,000 tickets.
  `
  INSERT INTO sequences (name, value) VALUES ('revision', 0);
  CREATE TRIGGER tickets_revision_i AFTER INSERT ON tickets
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER tickets_revision_u AFTER UPDATE ON tickets
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER tickets_revision_d AFTER DELETE ON tickets
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER runtime_sessions_revision_i AFTER INSERT ON runtime_sessions
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER runtime_sessions_revision_u AFTER UPDATE ON runtime_sessions
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER runtime_sessions_revision_d AFTER DELETE ON runtime_sessions
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER messages_revision_i AFTER INSERT ON messages
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER messages_revision_u AFTER UPDATE ON messages
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  CREATE TRIGGER messages_revision_d AFTER DELETE ON messages
    BEGIN UPDATE sequences SET value = value + 1 WHERE name = 'revision'; END;
  `,
  // 8: a ticket may name the host label it runs under (`mcc add --host-label`): only a daemon carrying that
  // label picks it up. NULL: any host.
  `
  ALTER TABLE tickets ADD COLUMN host_label TEXT;
  `,
];

/** The newest schema version this code understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Read PRAGMA user_version. */
export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Throw (never proceed) when the database was written by a newer mcc than this one. */
export function assertNotNewer(db: Database.Database, location: string): void {
  const found = schemaVersionOf(db);
  if (found > SCHEMA_VERSION) {
    throw new Error(
      `the store at ${location} has schema version ${found}, this mcc understands up to ${SCHEMA_VERSION}: ` +
        'upgrade mcc (the store was left untouched)',
    );
  }
}

/**
 * Throw when the database is some other program's: schema version 0 (never migrated by mcc) yet it already has
 * tables. Migrating it would add mcc's tables to a database that is not ours.
 */
export function assertOursOrEmpty(db: Database.Database, location: string): void {
  // One statement, so one snapshot: a concurrent first opener's migration is seen whole or not at all.
  const row = db
    .prepare(
      `SELECT (SELECT user_version FROM pragma_user_version) AS version,
              (SELECT json_group_array(name) FROM (SELECT name FROM sqlite_master
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 6)) AS names`,
    )
    .get() as { version: number; names: string };
  if (row.version !== 0) return;
  const names = JSON.parse(row.names) as string[];
  if (names.length === 0) return;
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
  throw new Error(
    `the store at ${location} is an SQLite database but not an mcc store (schema version 0, yet it has ${shown}); ` +
      'nothing was changed: point --db or MCC_DB at an mcc store or a new file',
  );
}

/** Bring the database up to SCHEMA_VERSION, in one immediate transaction. */
export function migrate(db: Database.Database, location: string): void {
  assertNotNewer(db, location);
  if (schemaVersionOf(db) === SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated while we waited for it.
    assertNotNewer(db, location);
    for (let v = schemaVersionOf(db); v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
