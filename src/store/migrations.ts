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
  // The name of the recipe an inspection ran with (the index was there from the start).
  `ALTER TABLE inspections ADD COLUMN recipe_name TEXT;`,
];
