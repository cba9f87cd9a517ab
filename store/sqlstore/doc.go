// Package sqlstore is couponkit's reference SQL store: store.Store on
// SQLite (modernc.org/sqlite, pure Go, so builds cross-compile with
// CGO_ENABLED=0) and on PostgreSQL (github.com/jackc/pgx/v5 through its
// database/sql driver, stdlib).
//
// A Store works on a *sql.DB the application opened, so it shares the
// application's pool, sits beside its tables (every table is named ck_...)
// and can join its transactions (WithTx):
//
//	db, err := sqlstore.OpenSQLite("coupons.db") // or sql.Open("pgx", dsn)
//	st := sqlstore.New(db, sqlstore.SQLite)      // or sqlstore.Postgres
//	err = st.Migrate(ctx)
//	eng, err := couponkit.New(couponkit.Config{Store: st})
//
// # Schema
//
// The schema is embedded (schema/<dialect>/NNNN_*.sql) and applied by
// Migrate, which is versioned, idempotent and safe to run from several
// processes at once. Times are BIGINT Unix nanoseconds (NULL for the zero
// time), read back in UTC; decimals are TEXT; a series is a JSON document
// with its id, status and version as columns and its redemption places
// in ck_series_places. Constraints hold what the store promises: a unique
// (canonical code, series, slot) per coupon (see store.Slot, recomputed on
// every update since a transfer moves a shared coupon's holder), a unique
// issue key (issue_key, series) per coupon issued with an idempotency key,
// a unique idempotency key per coupon's redemptions, foreign keys from coupons to
// series and from redemptions to coupons, and checks that states and
// statuses are in range and that counters, redemptions and holds are
// never negative.
//
// # Concurrency
//
// Apply is one transaction. Coupon and redemption updates are guarded by
// their expected version or status in the UPDATE's WHERE, and their
// affected-row count is checked. Counter limits are enforced the same way,
// by one guarded statement per bump:
//
//	INSERT INTO ck_counters AS c (...) VALUES (<key>, $delta, $at)
//	ON CONFLICT (<key>) DO UPDATE SET n = c.n + excluded.n, last = excluded.last
//	WHERE c.n < $limit AND (c.last IS NULL OR c.last <= $at - $gap)
//	RETURNING n, last
//
// The upsert creates a counter never bumped (n = 0 and no last bump, which
// the guard allows unless no value would: such a bump only reads the
// counter, for its error), so a missing row never escapes the guard; an
// existing row is locked and the WHERE is evaluated on its newest version
// (PostgreSQL re-checks it after any lock wait, under READ COMMITTED too).
// No row returned means the guard refused: the change fails with a
// *store.GuardError. There is no SELECT ... FOR UPDATE of rows that may
// not exist and no count followed by an insert. A decrement is a guarded
// UPDATE (n + delta >= 0). The bumps come last in the transaction, in a
// stable order of their keys (series-wide counters, the hottest rows,
// last), so that their row locks are held briefly and never taken in a
// cycle. A sequence advance (store.SequenceAdvance) follows them: one
// UPDATE of the series' row in ck_sequences guarded by next = From (an
// upsert from 0, whose DO UPDATE carries the same guard), so that a
// transaction that read a stale index matches no row and fails with a
// *store.ConflictError.
//
// A large change (a bulk issue batch: thousands of coupons, events and
// bumps) is written with multi-row statements instead of one per row. A
// change bumps each counter once (store.Change.Validate, which Apply checks
// first), possibly by more than one: the bumps that a counter never bumped
// would pass are rows of a multi-row guarded upsert, whose condition for a
// bump of k is the k increments' together (n <= limit - k, and the gap
// checked against the stored last bump), and the rows of consecutive
// counters in lock order are one statement, so the lock order is kept.
// Any other bump is a statement of its own. A multi-row insert that breaks
// a constraint undoes the change, which is run again a row at a time so
// that the error names the row. Either way the outcome is the one of a
// statement per row and per bump.
//
// On PostgreSQL, READ COMMITTED (the default) is enough: every invariant
// rests on a guarded statement, which locks the row and re-evaluates its
// condition on the newest committed version, or on a unique index.
// Stricter levels work too.
//
// # Retries
//
// The store runs nothing again: the engine is the one owner of retries.
// A transaction the database refuses as a whole (a serialization failure,
// 40001; a deadlock, 40P01; on SQLite a busy or locked database, once its
// busy timeout has passed) wrote nothing, and fails every change it held
// with a *store.ConflictError of Kind "transaction", naming the database's
// error. The engine retries it like any conflict: it reads again, decides
// again and applies again (couponkit.Config.MaxAttempts), or, for a write
// that decides nothing (a bulk insert or update, a series write), applies
// the same write again. A caller of the store without an engine does the
// same. (A multi-row insert that breaks a constraint is run again a row
// at a time, in a new transaction, only so that its error names the row;
// that is not a retry: the outcome is the one a row at a time gives.)
//
// # Group commit
//
// A change that bumps the counter of a busy series holds that row's lock
// until its commit is durable, so one hot series would go no faster than
// one flush of the log per redemption. Concurrent Apply calls are
// therefore queued by series and written in groups: one transaction per
// group, each change under a savepoint of its own (undone alone when it
// fails; on SQLite, a group of one change needs none), one commit. Apply
// returns once its group is committed, so durability is unchanged, and
// the changes of a group run one after the other, so the outcome is that
// of some serial order. On PostgreSQL each change of a group is one round
// trip (pgx's pipeline), and up to eight groups of different series run at
// once.
//
// On SQLite, use OpenSQLite (or its DSN, SQLiteDSN): WAL, a busy timeout,
// foreign keys, synchronous=NORMAL, BEGIN IMMEDIATE for every transaction,
// one writing transaction at a time and a few reading connections beside
// it.
//
// # Bulk work
//
// InsertCoupons writes a batch in one transaction: on PostgreSQL by COPY
// of the coupons into a temporary table, one INSERT ... SELECT ... ON
// CONFLICT DO NOTHING RETURNING id, and COPY of the events of the coupons
// that went in (a large batch is split in two parts written at once); on
// SQLite by prepared multi-row inserts that bind the columns shared by the
// whole batch once.
// A change that only inserts a large batch of coupons with their events,
// as Generate's batches do (each also advancing the series' code
// sequence), is written the same way on PostgreSQL, in one transaction.
// A crash leaves whole batches (parts), and running the job again skips
// what exists, so it resumes without duplicates; the engine's Generate and
// Upload report progress per batch. UpdateWhere (revocation by filter, the
// expiry sweep) picks, locks and updates up to Limit coupons by id and
// inserts their events in one set-based statement.
//
// # Caching
//
// The store caches no record: Series and ListSeries read and decode the
// series' document every time. The engine caches series, reusing one it
// has read while SeriesVersion (a read of the version column alone) says
// it is unchanged. What the store keeps are prepared statements (SQLite;
// pgx keeps its own per connection) and the texts of the statements it
// builds.
//
// # Caller's transactions
//
// WithTx binds a Store to a *sql.Tx: an engine built on it runs inside the
// caller's transaction, each change under a savepoint, and commits or
// rolls back with it.
//
// # Pools
//
// With PostgreSQL, let the pool keep its connections: database/sql keeps
// two idle by default and closes the others, and opening a PostgreSQL
// connection costs more than a redemption. SetMaxIdleConns to the number
// of concurrent requests you expect (the tests use 40).
//
// # Errors
//
// A database error becomes an *errcode.Error that says what to do: a value
// the database refuses as data (PostgreSQL's data exceptions and index
// entries too large, SQLite's values too big) or a broken constraint is
// InvalidArgument, the same every time; a database never migrated is
// InvalidConfig wrapping a *NotMigratedError (run Migrate), and one of the
// other dialect InvalidConfig wrapping a *DialectError; a serialization
// failure, deadlock or busy database is a *store.ConflictError of Kind
// "transaction" (see Retries); anything else is Unavailable. The engine checks its callers' strings and times before they
// reach a store, so bad data from an engine's caller never gets this far.
//
// # Tests
//
// The PostgreSQL tests run when COUPONKIT_TEST_POSTGRES holds a DSN (for
// example postgres://root@127.0.0.1:5432/test?sslmode=disable); each test
// uses a schema of its own, dropped at the end.
package sqlstore
