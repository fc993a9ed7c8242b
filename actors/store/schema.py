"""Opening the SQLite database (apsw), its schema and forward migrations, and apsw error mapping.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes the database from
version ``i`` to ``i + 1``; each runs in its own transaction together with the version bump, so
a crash mid-migration leaves the previous version intact. Applying is idempotent. A database
with a newer version than :data:`SCHEMA_VERSION` is refused (written by a newer option-alpha).

Every statement takes parameters; nothing from outside is pasted into SQL.
"""

from __future__ import annotations

import logging
from pathlib import Path

import apsw

from actors.errors import DiskFull, StoreBusy, StoreError

__all__ = [
    "MIGRATIONS",
    "NEWS_SCHEMA_VERSION",
    "SCHEMA_VERSION",
    "map_apsw_error",
    "migrate",
    "open_readonly",
    "open_writer",
    "schema_version",
]

logger = logging.getLogger(__name__)

_MIGRATION_1 = """
CREATE TABLE scan_runs (
    id                 TEXT PRIMARY KEY,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    status             TEXT NOT NULL
                       CHECK (status IN ('RUNNING','PARTIAL','COMPLETED','FAILED','INTERRUPTED')),
    source             TEXT NOT NULL,
    tickers_requested  INTEGER NOT NULL DEFAULT 0,
    tickers_scored     INTEGER NOT NULL DEFAULT 0,
    options_chosen     INTEGER NOT NULL DEFAULT 0,
    debates_requested  INTEGER NOT NULL DEFAULT 0,
    debates_completed  INTEGER NOT NULL DEFAULT 0,
    status_reason      TEXT,
    duration_seconds   REAL,
    settings_json      TEXT NOT NULL DEFAULT '{}',
    errors_json        TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX scan_runs_started ON scan_runs(started_at);

CREATE TABLE run_phases (
    run_id   TEXT NOT NULL REFERENCES scan_runs(id) ON DELETE CASCADE,
    phase    TEXT NOT NULL,
    status   TEXT NOT NULL,
    seconds  REAL NOT NULL,
    errors   INTEGER NOT NULL DEFAULT 0,
    detail   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, phase)
);

CREATE TABLE run_errors (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES scan_runs(id) ON DELETE CASCADE,
    ticker   TEXT NOT NULL,
    piece    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX run_errors_run ON run_errors(run_id);

CREATE TABLE ticker_scores (
    run_id            TEXT NOT NULL REFERENCES scan_runs(id) ON DELETE CASCADE,
    ticker            TEXT NOT NULL,
    rank              INTEGER NOT NULL,
    score             REAL NOT NULL,
    technical_score   REAL NOT NULL,
    direction         TEXT NOT NULL,
    components_json   TEXT NOT NULL,
    catalysts_json    TEXT NOT NULL,
    last_close        REAL NOT NULL,
    as_of             TEXT NOT NULL,
    synthetic         INTEGER NOT NULL DEFAULT 0,
    no_option_reason  TEXT,
    PRIMARY KEY (run_id, ticker)
);

CREATE TABLE options_recommendations (
    run_id         TEXT NOT NULL,
    ticker         TEXT NOT NULL,
    contract       TEXT NOT NULL,
    type           TEXT NOT NULL CHECK (type IN ('call','put')),
    strike         REAL NOT NULL,
    expiry         TEXT NOT NULL,
    dte            INTEGER NOT NULL,
    delta          REAL NOT NULL,
    bid            REAL NOT NULL,
    ask            REAL NOT NULL,
    mid            REAL NOT NULL,
    open_interest  REAL NOT NULL,
    volume         REAL NOT NULL,
    iv             REAL,
    greeks_source  TEXT NOT NULL,
    gamma          REAL,
    theta          REAL,
    vega           REAL,
    PRIMARY KEY (run_id, ticker),
    FOREIGN KEY (run_id, ticker) REFERENCES ticker_scores(run_id, ticker) ON DELETE CASCADE
);

CREATE TABLE ai_theses (
    id              INTEGER PRIMARY KEY,
    run_id          TEXT NOT NULL REFERENCES scan_runs(id) ON DELETE CASCADE,
    ticker          TEXT NOT NULL,
    role            TEXT NOT NULL,
    model           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('ok','failed')),
    failure         TEXT,
    thesis_type     TEXT,
    thesis_json     TEXT,
    attempts        INTEGER NOT NULL,
    latency_seconds REAL NOT NULL,
    input_tokens    INTEGER,
    output_tokens   INTEGER,
    detail          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX ai_theses_run ON ai_theses(run_id, ticker);

CREATE TABLE debates (
    run_id      TEXT NOT NULL REFERENCES scan_runs(id) ON DELETE CASCADE,
    ticker      TEXT NOT NULL,
    status      TEXT NOT NULL,
    verdict     TEXT,
    conviction  REAL,
    reason      TEXT,
    PRIMARY KEY (run_id, ticker)
);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY,
    ticker        TEXT NOT NULL,
    title         TEXT NOT NULL,
    url           TEXT,
    publisher     TEXT,
    published_at  TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending','scoring','scored','failed')),
    category      TEXT,
    sentiment     TEXT,
    impact        REAL,
    summary       TEXT,
    failure       TEXT,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX articles_unique ON articles(ticker, coalesce(url, title));
CREATE INDEX articles_queue ON articles(status, published_at);
"""

# Run ownership: the lease file name of the process that writes the run (``actors.store.owners``).
# NULL on runs written before leases existed; recovery treats those owners as gone.
_MIGRATION_2 = """
ALTER TABLE scan_runs ADD COLUMN owner TEXT;
CREATE INDEX scan_runs_open ON scan_runs(finished_at, status);
"""

# Usage per agent call (issue 16): seconds Ollama spent generating, reading the prompt and
# loading the model. Plain ADD COLUMNs: they apply after any other migration of ai_theses.
_MIGRATION_3 = """
ALTER TABLE ai_theses ADD COLUMN generation_seconds REAL;
ALTER TABLE ai_theses ADD COLUMN prompt_seconds REAL;
ALTER TABLE ai_theses ADD COLUMN load_seconds REAL;
"""

# News (issue 12): an article is stored once (unique URL, unique normalized-title hash) and linked
# to its tickers; the queue (status, attempts, lease) and the two-stage score live on the row,
# the per-ticker scores in article_scores. The sketch table of migration 1 is replaced: its rows
# are carried over as pending articles (a title hash that is not the real one would never match
# again, so the title itself stands in until the row is re-added). run_news records which
# articles moved a run's scores; news_state keeps the rate-limit cool-down across restarts.
_MIGRATION_NEWS = """
ALTER TABLE articles RENAME TO articles_sketch;
DROP INDEX IF EXISTS articles_unique;
DROP INDEX IF EXISTS articles_queue;
CREATE TABLE articles (
    id                INTEGER PRIMARY KEY,
    url               TEXT UNIQUE,
    title_hash        TEXT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    source            TEXT,
    published_at      TEXT NOT NULL,
    summary           TEXT,
    status            TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending','scoring','scored','failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    lease_expires_at  TEXT,
    last_error        TEXT,
    categories_json   TEXT,
    event_type        TEXT,
    reasoning         TEXT,
    prompt_hash       TEXT,
    raw_reply         TEXT,
    scored_at         TEXT,
    added_at          TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX articles_queue ON articles(status, published_at);
CREATE TABLE article_tickers (
    article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ticker      TEXT NOT NULL,
    PRIMARY KEY (article_id, ticker)
);
CREATE INDEX article_tickers_ticker ON article_tickers(ticker);
CREATE TABLE article_scores (
    article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ticker      TEXT NOT NULL,
    sentiment   REAL NOT NULL CHECK (sentiment BETWEEN -1 AND 1),
    impact      REAL NOT NULL CHECK (impact BETWEEN 0 AND 10),
    PRIMARY KEY (article_id, ticker)
);
CREATE TABLE run_news (
    run_id      TEXT NOT NULL,
    ticker      TEXT NOT NULL,
    article_id  INTEGER NOT NULL,
    weight      REAL NOT NULL,
    points      REAL NOT NULL,
    PRIMARY KEY (run_id, ticker, article_id)
);
CREATE TABLE news_state (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL,
    note   TEXT
);
INSERT OR IGNORE INTO articles (url, title_hash, title, source, published_at, status, added_at, updated_at)
    SELECT url, 'sketch:' || title, title, publisher, published_at, 'pending', updated_at, updated_at
    FROM articles_sketch ORDER BY id;
INSERT OR IGNORE INTO article_tickers (article_id, ticker)
    SELECT a.id, s.ticker FROM articles_sketch s JOIN articles a ON a.title_hash = 'sketch:' || s.title;
DROP TABLE articles_sketch;
"""

# Age of data (issue 13, live13): each row's quote age in seconds (NULL: no chain) and its data
# flags as a JSON list ('["mixed-dates"]'; NULL on rows written before).
_MIGRATION_live = """
ALTER TABLE ticker_scores ADD COLUMN quote_age_s REAL;
ALTER TABLE ticker_scores ADD COLUMN data_flags_json TEXT;
"""

#: Forward migrations; ``MIGRATIONS[i]`` takes version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (_MIGRATION_1, _MIGRATION_2, _MIGRATION_3, _MIGRATION_NEWS, _MIGRATION_live)
#: The first schema version with the news tables (readers of older databases see no news).
NEWS_SCHEMA_VERSION = MIGRATIONS.index(_MIGRATION_NEWS) + 1
#: The newest schema this code knows.
SCHEMA_VERSION = len(MIGRATIONS)


def map_apsw_error(exc: BaseException, doing: str) -> StoreError:
    """Translate an apsw exception into ours (raise the result ``from exc``).

    ``apsw.FullError`` (disk or size cap full) becomes :class:`DiskFull`, ``apsw.BusyError`` /
    ``apsw.LockedError`` :class:`StoreBusy`; any other error a
    :class:`StoreError` naming what was being done.
    """
    if isinstance(exc, StoreError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, apsw.FullError):
        return DiskFull(f"{doing}: database or disk is full ({name}: {exc}); nothing of it was written")
    if isinstance(exc, (apsw.BusyError, apsw.LockedError)):
        return StoreBusy(f"{doing}: database is locked by another connection ({name}: {exc}); nothing of it was written")
    return StoreError(f"{doing}: {name}: {exc}")


def schema_version(conn: apsw.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchall()[0][0])


def _check_not_newer(version: int, path: str) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: database schema version {version} is newer than this option-alpha knows "
            f"({SCHEMA_VERSION}); upgrade option-alpha or use another database file"
        )


def migrate(conn: apsw.Connection, *, path: str = "database") -> tuple[int, int]:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns ``(version_before, version_after)``.

    Raises:
        StoreError: the database is newer than this code, or SQLite failed.
    """
    before = schema_version(conn)
    _check_not_newer(before, path)
    version = before
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)  # another process may have migrated meanwhile
            _check_not_newer(version, path)
            if version < SCHEMA_VERSION:
                conn.execute(MIGRATIONS[version])
                version += 1
                # PRAGMA takes no parameters; ``version`` is our own int, never outside input.
                conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        logger.info("%s: schema migrated to version %d", path, version)
    return before, version


def open_writer(
    path: str | Path, *, busy_timeout: float = 5.0, max_size_bytes: int | None = None
) -> tuple[apsw.Connection, int]:
    """Open (creating) the database for writing: WAL, foreign keys, busy timeout, migrated.

    Returns the connection and the schema version found before migrating (0 for a new file).

    ``max_size_bytes`` caps the database file (``PRAGMA max_page_count``); writes beyond it
    fail with :class:`DiskFull` like a full disk.

    Raises:
        StoreError: cannot open, newer schema, or migration failed.
    """
    if busy_timeout < 0:
        raise ValueError(f"busy_timeout must be >= 0 seconds, got {busy_timeout!r}")
    if max_size_bytes is not None and max_size_bytes <= 0:
        raise ValueError(f"max_size_bytes must be > 0 or None, got {max_size_bytes!r}")
    where = str(path)
    conn: apsw.Connection | None = None
    try:
        conn = apsw.Connection(where, flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
        conn.set_busy_timeout(int(busy_timeout * 1000))
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        before, _after = migrate(conn, path=where)
        if max_size_bytes is not None:
            page_size = int(conn.execute("PRAGMA page_size").fetchall()[0][0])
            pages = max(1, max_size_bytes // page_size)
            conn.execute(f"PRAGMA max_page_count = {int(pages)}").fetchall()
        return conn, before
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, apsw.Error):
            raise map_apsw_error(exc, f"opening {where}") from exc
        raise


def open_readonly(path: str | Path, *, busy_timeout: float = 5.0) -> apsw.Connection:
    """Open an existing database read-only (CLI, dashboard); never creates or migrates.

    Raises:
        StoreError: no database there, not an option-alpha database, or a newer schema.
    """
    where = str(path)
    if not Path(where).is_file():
        raise StoreError(f"{where}: no database there (has a scan been run?)")
    conn: apsw.Connection | None = None
    try:
        conn = apsw.Connection(where, flags=apsw.SQLITE_OPEN_READONLY)
        conn.set_busy_timeout(int(busy_timeout * 1000))
        version = schema_version(conn)
        _check_not_newer(version, where)
        if version == 0:
            raise StoreError(f"{where}: not an option-alpha database (schema version 0)")
        return conn
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, apsw.Error):
            raise map_apsw_error(exc, f"opening {where} read-only") from exc
        raise
