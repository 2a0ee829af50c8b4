/**
 * Schema migrations, applied in order; index + 1 is the schema version. Never edit a released
 * migration: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE inspections (
    id             INTEGER PRIMARY KEY,
    station_id     TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('part','zone','cleaning')),
    trigger_count  INTEGER,
    part_id        TEXT,
    batch_id       TEXT,
    recipe_index   INTEGER,
    verdict        TEXT    NOT NULL CHECK (verdict IN ('pass','reject','inconclusive','not_inspected')),
    reason         TEXT,
    reject_code    INTEGER NOT NULL DEFAULT 0,
    score          REAL    NOT NULL DEFAULT 0,
    started_at     INTEGER NOT NULL,
    acquire_ms     REAL,
    preprocess_ms  REAL,
    infer_ms       REAL,
    decode_ms      REAL,
    rules_ms       REAL,
    total_ms       REAL,
    model_versions TEXT    NOT NULL DEFAULT '{}',
    frame_origin   TEXT,
    recorded_at    INTEGER NOT NULL
  );
  CREATE INDEX inspections_station_time ON inspections (station_id, started_at);
  CREATE INDEX inspections_batch ON inspections (batch_id);

  CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    label         TEXT    NOT NULL,
    score         REAL    NOT NULL,
    x REAL, y REAL, w REAL, h REAL,
    rule          TEXT    NOT NULL,
    effect        TEXT    NOT NULL CHECK (effect IN ('reject','inconclusive','info')),
    reject_code   INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX findings_inspection ON findings (inspection_id);

  -- What the PLC was told, kept apart so the inspection row is written once and never changed.
  CREATE TABLE plc_answers (
    inspection_id INTEGER PRIMARY KEY REFERENCES inspections (id),
    result        INTEGER NOT NULL,
    result_count  INTEGER NOT NULL,
    written_at    INTEGER,
    latency_ms    REAL,
    error         TEXT
  );

  CREATE TABLE evidence (
    inspection_id INTEGER PRIMARY KEY REFERENCES inspections (id),
    path          TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    bytes         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
  );

  CREATE TABLE alarms (
    id          INTEGER PRIMARY KEY,
    station_id  TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    severity    TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    raised_at   INTEGER NOT NULL,
    cleared_at  INTEGER
  );
  CREATE INDEX alarms_active ON alarms (station_id, category) WHERE cleared_at IS NULL;
  `,
  // 2: alarm lifecycle (ISA-18.2): acknowledgement and shelving kept alongside the alarm, and an
  // append-only history of every transition. Existing alarms get their raise/clear as history.
  `
  ALTER TABLE alarms ADD COLUMN acked_at      INTEGER;
  ALTER TABLE alarms ADD COLUMN acked_by      TEXT;
  ALTER TABLE alarms ADD COLUMN ack_comment   TEXT;
  ALTER TABLE alarms ADD COLUMN shelved_until INTEGER;
  ALTER TABLE alarms ADD COLUMN shelved_by    TEXT;
  ALTER TABLE alarms ADD COLUMN shelve_reason TEXT;
  -- Alarms from before acknowledgement existed were never acknowledged: closed ones count as done.
  UPDATE alarms SET acked_at = cleared_at, acked_by = 'system', ack_comment = 'closed before acknowledgement was recorded'
    WHERE cleared_at IS NOT NULL;
  DROP INDEX alarms_active;
  -- In the active list until cleared and acknowledged; at most one such alarm per source and cause.
  CREATE UNIQUE INDEX alarms_listed ON alarms (station_id, category) WHERE cleared_at IS NULL OR acked_at IS NULL;

  CREATE TABLE alarm_events (
    id        INTEGER PRIMARY KEY,
    alarm_id  INTEGER NOT NULL REFERENCES alarms (id),
    kind      TEXT    NOT NULL CHECK (kind IN ('raised','acknowledged','shelved','unshelved','cleared')),
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    comment   TEXT,
    until     INTEGER
  );
  CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id);
  CREATE INDEX alarm_events_time ON alarm_events (at);
  CREATE TRIGGER alarm_events_no_update BEFORE UPDATE ON alarm_events
    BEGIN SELECT RAISE(ABORT, 'alarm history is append-only'); END;
  CREATE TRIGGER alarm_events_no_delete BEFORE DELETE ON alarm_events
    BEGIN SELECT RAISE(ABORT, 'alarm history is append-only'); END;
  INSERT INTO alarm_events (alarm_id, kind, at, actor, role, comment)
    SELECT id, 'raised', raised_at, 'system', 'system', message FROM alarms;
  INSERT INTO alarm_events (alarm_id, kind, at, actor, role, comment)
    SELECT id, 'cleared', cleared_at, 'system', 'system', NULL FROM alarms WHERE cleared_at IS NOT NULL;
  `,
  // 3: evidence retention. Images are deleted, records never: a deleted image keeps its `evidence`
  // row (path, sha256) and gets a row here. Batch holds are a history too; the last entry decides.
  `
  CREATE TABLE evidence_deletions (
    inspection_id INTEGER PRIMARY KEY REFERENCES evidence (inspection_id),
    deleted_at    INTEGER NOT NULL,
    reason        TEXT    NOT NULL
  );
  CREATE TRIGGER evidence_deletions_no_update BEFORE UPDATE ON evidence_deletions
    BEGIN SELECT RAISE(ABORT, 'evidence deletions are append-only'); END;
  CREATE TRIGGER evidence_deletions_no_delete BEFORE DELETE ON evidence_deletions
    BEGIN SELECT RAISE(ABORT, 'evidence deletions are append-only'); END;
  CREATE INDEX evidence_created ON evidence (created_at);

  CREATE TABLE batch_holds (
    id        INTEGER PRIMARY KEY,
    batch_id  TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('hold','release')),
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    reason    TEXT    NOT NULL
  );
  CREATE INDEX batch_holds_batch ON batch_holds (batch_id, id);
  CREATE TRIGGER batch_holds_no_update BEFORE UPDATE ON batch_holds
    BEGIN SELECT RAISE(ABORT, 'batch holds are append-only'); END;
  CREATE TRIGGER batch_holds_no_delete BEFORE DELETE ON batch_holds
    BEGIN SELECT RAISE(ABORT, 'batch holds are append-only'); END;
  CREATE VIEW held_batches AS
    SELECT h.batch_id, h.at, h.actor, h.reason FROM batch_holds h
    WHERE h.kind = 'hold' AND h.id = (SELECT MAX(id) FROM batch_holds WHERE batch_id = h.batch_id);
  `,
  // 4: the name of the recipe an inspection ran with (the index was there from the start).
  `ALTER TABLE inspections ADD COLUMN recipe_name TEXT;`,
  // 5: Part 11 records: users, sessions, the chained audit trail, electronic signatures, reviews.
  // Audit trail, signatures and reviews are append-only: the triggers refuse UPDATE and DELETE.
  `
  CREATE TABLE users (
    username        TEXT    PRIMARY KEY,
    full_name       TEXT    NOT NULL,
    role            TEXT    NOT NULL CHECK (role IN ('viewer','operator','supervisor','qa','admin')),
    password_hash   TEXT    NOT NULL,
    password_set_at INTEGER NOT NULL,
    must_change     INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_at       INTEGER,
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL
  );

  CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    username     TEXT    NOT NULL REFERENCES users (username),
    client       TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER,
    end_reason   TEXT
  );
  CREATE INDEX sessions_open ON sessions (username) WHERE ended_at IS NULL;

  CREATE TABLE audit_trail (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    user        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   TEXT    NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    reason      TEXT,
    client      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
  );
  CREATE INDEX audit_trail_at ON audit_trail (at);
  CREATE TRIGGER audit_trail_no_update BEFORE UPDATE ON audit_trail
    BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only: rows cannot be changed'); END;
  CREATE TRIGGER audit_trail_no_delete BEFORE DELETE ON audit_trail
    BEGIN SELECT RAISE(ABORT, 'audit_trail is append-only: rows cannot be deleted'); END;

  CREATE TABLE signatures (
    id             INTEGER PRIMARY KEY,
    record_type    TEXT    NOT NULL,
    record_id      TEXT    NOT NULL,
    meaning        TEXT    NOT NULL CHECK (meaning IN ('reviewed','approved','verified','responsible')),
    username       TEXT    NOT NULL REFERENCES users (username),
    printed_name   TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    signed_at      INTEGER NOT NULL,
    content_sha256 TEXT    NOT NULL
  );
  CREATE INDEX signatures_record ON signatures (record_type, record_id);
  CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
    BEGIN SELECT RAISE(ABORT, 'signatures cannot be changed'); END;
  CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
    BEGIN SELECT RAISE(ABORT, 'signatures cannot be deleted'); END;

  CREATE TABLE reviews (
    id            INTEGER PRIMARY KEY,
    inspection_id INTEGER NOT NULL REFERENCES inspections (id),
    decision      TEXT    NOT NULL CHECK (decision IN ('pass','reject')),
    reason        TEXT    NOT NULL CHECK (length(trim(reason)) > 0),
    reviewer      TEXT    NOT NULL REFERENCES users (username),
    reviewed_at   INTEGER NOT NULL
  );
  CREATE INDEX reviews_inspection ON reviews (inspection_id);
  CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
    BEGIN SELECT RAISE(ABORT, 'reviews cannot be changed: add a new review'); END;
  CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
    BEGIN SELECT RAISE(ABORT, 'reviews cannot be deleted'); END;
  `,
  // 6: who asked for a cleaning check (a user name, or PLC for the PLC's CleanCheckRequest); null
  // for every other inspection and for checks recorded before this version (their audit entry says).
  `ALTER TABLE inspections ADD COLUMN requested_by TEXT;`,
  // 7: how faces were blurred in a zone station's evidence and live view (privacy), e.g. by a face model.
  `ALTER TABLE inspections ADD COLUMN face_blur TEXT;`,
];
