// Package sqlite is couponkit's store on an SQLite file, through
// modernc.org/sqlite: pure Go, so a till's build cross-compiles with
// CGO_ENABLED=0, and it links no other database's driver.
//
// Open a store on a file, migrate it once, and give it to an engine:
//
//	st, err := sqlite.Open(ctx, "coupons.db")
//	err = st.Migrate(ctx)
//	eng, err := couponkit.New(couponkit.Config{Store: st})
//
// or make one with New over a *sql.DB the application opened (OpenDB, or
// sql.Open("sqlite", DSN(path))), to share its pool, sit beside its tables
// (every table is named ck_...) and join its transactions (WithTx).
//
// # Schema
//
// The schema is embedded as numbered SQL files (Migrations, one per
// version up to SchemaVersion) and applied by Migrate, which is
// versioned, idempotent and safe to run from several processes at once.
// Users of goose, golang-migrate or Atlas can apply the same files
// instead. Tables are STRICT; times are INTEGER Unix nanoseconds (NULL for
// the zero time), read back in UTC; decimals are TEXT; a series is a JSON
// document with its id, status and version as columns and its redemption
// places in ck_series_places. Constraints hold what the store promises: a
// unique (canonical code, series, slot) per coupon (store.Slot), a unique
// issue key per series, a unique idempotency key per coupon's
// redemptions, foreign keys from coupons to series and from redemptions to
// coupons, and checks that states and statuses are in range and that
// counters, redemptions and holds are never negative.
//
// The store keeps the leases the central grants to tills
// (store.LeaseStore): a lease is a JSON document in ck_leases with its id,
// till, series, status, end and version as columns, its updates guarded by
// the version; the records of the tills' calls (ck_lease_ops) and their
// journal entries (ck_till_entries) are JSON documents unique per (till,
// key). They are written in the transaction of the rest of their change.
//
// # Concurrency
//
// Apply is one transaction. Coupon and redemption updates are guarded by
// their expected version or status in the UPDATE's WHERE, and their
// affected-row count is checked. Counter limits are enforced the same way,
// by one guarded upsert per bump whose DO UPDATE's WHERE is the guard
// (store.Bump.Next as SQL): a counter never bumped is created by the
// insert, which the guard allows, so a missing row never escapes it. The
// bumps come last in the transaction, in a stable order of their keys, and
// a sequence advance (store.SequenceAdvance) after them. A large change
// (a bulk issue batch) is written with multi-row statements, with the
// outcome of a statement per row.
//
// SQLite writes one transaction at a time. A Store therefore writes
// through one transaction at a time itself: concurrent Apply calls are
// queued and written in groups, one transaction per group, one commit;
// Apply returns once its group is committed, so durability is unchanged.
// A group is written first as one change made of all of it, with no
// savepoint (multi-row inserts, one guarded bump of a counter that several
// changes bump); when anything of it fails, that transaction is rolled
// back and the group written again one change at a time, each under a
// savepoint of its own (a group of one needs none).
// Use OpenDB's settings (DSN): WAL, a busy timeout, foreign keys,
// synchronous=NORMAL, BEGIN IMMEDIATE for every transaction, and a few
// reading connections beside the writer.
//
// # Event feed
//
// EventsAfter reads the events in position order, and a reader that
// resumes from the last position it handled never misses one. A position
// is (0, seq), the event's rowid: SQLite writes one transaction at a time,
// so rowids are given in the order of commit, and events are never
// deleted, so none is given twice. A change's notices are inserts after
// its bumps, each conditional on the counter's row as the bump left it;
// consumers' checkpoints are rows of ck_checkpoints.
//
// # Retries
//
// The store runs nothing again: the engine is the one owner of retries
// (see package store). A transaction SQLite refuses as a whole (a busy or
// locked database, once the busy timeout has passed) wrote nothing and
// fails with a *store.ConflictError of Kind "transaction", naming SQLite's
// error; the engine retries it. (A multi-row insert that breaks a
// constraint is run again a row at a time, in a new transaction, only so
// that its error names the row; that is not a retry.)
//
// # Caching
//
// The store caches no record: Series and ListSeries read and decode the
// series' document every time, and the engine caches series by their
// version (store.SeriesVersioner). The store keeps its prepared statements
// and the texts of the statements it builds.
//
// # Bulk work
//
// InsertCoupons writes a batch in one transaction, by prepared multi-row
// inserts that bind the columns shared by the whole batch once; a crash
// leaves whole batches, and running the job again skips what exists.
// UpdateWhere (revocation by filter, the expiry sweep) picks and updates
// up to Limit coupons and inserts their events in two set-based
// statements.
//
// # Errors
//
// An SQLite error becomes an *errcode.Error that says what to do, read
// from its result code: a broken constraint or a value SQLite refuses
// (SQLITE_TOOBIG, SQLITE_MISMATCH) is InvalidArgument, the same every
// time; a database never migrated is InvalidConfig wrapping a
// *NotMigratedError (run Migrate), and one that is not SQLite
// InvalidConfig wrapping a *DialectError; a busy or locked database is a
// *store.ConflictError of Kind "transaction"; anything else is
// Unavailable.
package sqlite
