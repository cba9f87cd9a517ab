package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// SQLiteBusyTimeout is how long an SQLite connection opened by OpenSQLite
// waits for another process's write lock before failing with SQLITE_BUSY
// (which the Store reports as a *store.ConflictError of Kind
// "transaction", for the engine to retry).
const SQLiteBusyTimeout = 10 * time.Second

// SQLiteCacheKiB is the page cache of a connection opened by OpenSQLite,
// in KiB. SQLite allocates it as pages are read, up to this size.
const SQLiteCacheKiB = 64 << 10

// SQLiteDSN returns the modernc.org/sqlite data source name OpenSQLite
// uses for the database file at path:
//
//   - _txlock=immediate: every transaction is BEGIN IMMEDIATE, so it takes
//     the write lock at its start and waits for it under the busy timeout.
//     A deferred transaction that reads first and then writes would fail
//     its lock upgrade with SQLITE_BUSY at once, without waiting.
//   - busy_timeout: wait up to SQLiteBusyTimeout for a lock.
//   - journal_mode WAL: readers do not block the writer nor it them, and a
//     commit appends to the log instead of rewriting pages.
//   - synchronous NORMAL: with WAL, a commit is durable against a crash of
//     the process and consistent after a power loss (it may lose the last
//     commits then, never corrupt).
//   - foreign_keys on: SQLite does not check foreign keys otherwise.
//   - cache_size of SQLiteCacheKiB: a bulk batch of ten thousand codes
//     touches pages all over the code index; with SQLite's default 2 MiB
//     cache the pages spill to the log before the commit.
//   - temp_store MEMORY: statement journals (a multi-row insert keeps one
//     to undo itself alone) stay in memory instead of temporary files.
func SQLiteDSN(path string) string {
	return path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + itoa(SQLiteBusyTimeout.Milliseconds()) + ")" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=cache_size(-" + itoa(SQLiteCacheKiB) + ")" +
		"&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(50000)"
}

// SQLiteConns is the size of the pool OpenSQLite makes.
const SQLiteConns = 4

// OpenSQLite opens (creating it if needed) the SQLite database file at
// path with the settings of SQLiteDSN, for use with New(db, SQLite).
//
// One writer, several readers. SQLite lets one transaction write at a
// time; a Store writes through one transaction at a time (its group
// commit and a lock around its other write transactions), so its writers
// never contend for the file lock, and none waits on the busy handler,
// which sleeps. The pool's other connections (SQLiteConns in all) read
// meanwhile: in WAL mode readers neither block the writer nor wait for
// it. (With a single connection, reads would queue behind every write
// transaction; correct too, and a quarter slower for a busy till.) Other
// processes sharing the file, and a caller's own transaction (WithTx),
// take the write lock in turn under the busy timeout.
func OpenSQLite(path string) (*sql.DB, error) {
	if strings.ContainsRune(path, '?') {
		return nil, invalid("path", "an SQLite path for OpenSQLite has no '?'; pass DSN parameters with sql.Open and SQLiteDSN instead")
	}
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(SQLiteConns)
	db.SetMaxIdleConns(SQLiteConns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
