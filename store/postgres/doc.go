// Package postgres is couponkit's store on PostgreSQL 13 or later, through
// github.com/jackc/pgx/v5 and its database/sql driver (stdlib), for a
// fleet of services sharing one database.
//
// Open a store on a database, migrate it once, and give it to an engine:
//
//	st, err := postgres.Open(ctx, "postgres://app@db/coupons")
//	err = st.Migrate(ctx)
//	eng, err := couponkit.New(couponkit.Config{Store: st})
//
// or make one with New over a *sql.DB the application opened with pgx's
// stdlib driver, to share its pool, sit beside its tables (every table is
// named ck_..., in the schema of the connection's search_path) and join its
// transactions (WithTx). With a pool of your own, let it keep its
// connections (SetMaxIdleConns to the requests you expect at once): opening
// a PostgreSQL connection costs more than a redemption.
//
// # Schema
//
// The schema is embedded as numbered SQL files (Migrations, one per
// version up to SchemaVersion) and applied by Migrate, which is
// versioned, idempotent and safe to run from several processes at once.
// Users of goose, golang-migrate or Atlas can apply the same files
// instead. Times are BIGINT Unix nanoseconds (NULL for the zero time), read
// back in UTC; decimals are TEXT; a series is a JSONB document with its
// id, status and version as columns and its redemption places in
// ck_series_places. Constraints hold what the store promises: a unique
// (canonical code, series, slot) per coupon (store.Slot), a unique issue
// key per series, a unique idempotency key per coupon's redemptions,
// a foreign key from redemptions to coupons, a coupon's series checked
// to exist by triggers (once per statement for the coupons a statement or
// COPY inserts, and for a coupon moved to another series; a series with
// coupons cannot be deleted or renamed), which raise the error of the
// foreign key they replaced (ck_coupons_series_id_fkey), and checks that
// states and statuses are in range and that counters, redemptions and
// holds are never negative.
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
// (store.Bump.Next as SQL):
//
//	INSERT INTO ck_counters AS c (...) VALUES (<key>, $delta, $at)
//	ON CONFLICT (<key>) DO UPDATE SET n = c.n + excluded.n, last = excluded.last
//	WHERE c.n < $limit AND (c.last IS NULL OR c.last <= $at - $gap)
//	RETURNING n, last
//
// The upsert creates a counter never bumped, which the guard allows, so a
// missing row never escapes the guard; an existing row is locked and the
// WHERE is evaluated on its newest version (PostgreSQL re-checks it after
// any lock wait, under READ COMMITTED too). No row returned means the
// guard refused. There is no SELECT ... FOR UPDATE of rows that may not
// exist and no count followed by an insert. The bumps come last in the
// transaction, in a stable order of their keys (series-wide counters, the
// hottest rows, last), so that their row locks are held briefly and never
// taken in a cycle; a sequence advance (store.SequenceAdvance) follows
// them, guarded by the index it expects. READ COMMITTED (the default) is
// enough: every invariant rests on a guarded statement or a unique index.
// Stricter levels work too.
//
// A change that bumps the counter of a busy series holds that row's lock
// until its commit is durable, so concurrent Apply calls are queued by
// series and written in groups, one transaction per group; Apply returns
// once its group is committed, so durability is unchanged. A group is
// written first as one change made of all of it: its inserts multi-row
// statements, the bumps of one counter by several changes one guarded bump
// of their sum, sent in one round trip (pgx's pipeline), then the commit.
// When anything of it fails (a guard, a version, a duplicate), that
// transaction is rolled back and the group is written one change at a
// time, each under a savepoint of its own and one round trip, so that each
// change gets its own outcome. Up to eight groups of different series run
// at once. A large change (a bulk issue batch) is written with multi-row
// statements, with the outcome of a statement per row.
//
// Reads are combined the same way: the code reads (store.CodeReader) of
// concurrent redemptions wait for the one in flight and are then read
// together, by one statement over arrays of their codes and customers, at
// most two such statements at once. Each caller gets what a read of its
// own would have returned at some instant during its call.
//
// # Event feed
//
// EventsAfter reads the events in position order, and a reader that
// resumes from the last position it handled never misses one. A number
// drawn from a sequence is not the order of commit: a transaction that
// drew a smaller number may commit after a reader has passed it. So a
// position is (tx, seq), the writing transaction's id (the column
// ck_events.tx, xid8, defaulting to pg_current_xact_id()) and the
// event's number, and a read is one range scan of the index on (tx, seq)
// behind a fence:
//
//	SELECT ... FROM ck_events
//	WHERE (tx, seq) > ($1, $2) AND tx < pg_snapshot_xmin(pg_current_snapshot())
//	ORDER BY tx, seq LIMIT $3
//
// Every transaction below the snapshot's xmin has ended, and one that has
// no id yet will take one at or above it, so an event that commits later
// always sorts after every position a reader was given. The events of one
// transaction (a group of changes, a caller's transaction) are
// consecutive. The costs: one more index entry per event, and latency: a
// transaction that stays open anywhere on the server holds back the
// events of every transaction that began after it, until it ends (keep
// write transactions short; set idle_in_transaction_session_timeout).
// Nothing is ever lost. The schema step that adds the column rewrites
// ck_events once, giving the events written before it the migrating
// transaction's id. A change's notices are inserts after its bumps, each
// conditional on the counter's row as the bump left it; consumers'
// checkpoints are rows of ck_checkpoints.
//
// # Retries
//
// The store runs nothing again: the engine is the one owner of retries
// (see package store). A transaction PostgreSQL refuses as a whole (a
// serialization failure, 40001; a deadlock, 40P01) wrote nothing and fails
// every change it held with a *store.ConflictError of Kind "transaction",
// naming PostgreSQL's error; the engine retries it. (A multi-row insert
// that breaks a constraint is run again a row at a time, in a new
// transaction, only so that its error names the row; that is not a
// retry.)
//
// # Caching
//
// The store caches no record: Series and ListSeries read and decode the
// series' document every time, and the engine caches series by their
// version (store.SeriesVersioner). pgx keeps each connection's prepared
// statements.
//
// # Bulk work
//
// InsertCoupons writes a batch by COPY of the coupons into a temporary
// table, one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id,
// and COPY of the events of the coupons that went in (a large batch is
// split in two parts written at once). A change of a large batch of new
// coupons with their events, bumps and a sequence advance alone, as
// Generate's and a bulk issue's batches are, is written in one
// transaction by COPY of its coupons, its events and the counters its
// bumps create, then the usual statements for the rest (a counter that
// exists is bumped as Apply bumps it; a change that fails is run again the
// usual way, for its outcome). A crash leaves whole batches
// (parts), and running the job again skips what exists. UpdateWhere
// (revocation by filter, the expiry sweep) picks, locks and updates up to
// Limit coupons by id and inserts their events in one statement.
//
// # Errors
//
// A PostgreSQL error becomes an *errcode.Error that says what to do, read
// from its SQLSTATE: a data exception (class 22), a value past a limit of
// the server (54000) or a broken constraint is InvalidArgument, the same
// every time; a database never migrated (42P01) is InvalidConfig wrapping
// a *NotMigratedError (run Migrate), and one that is not PostgreSQL
// InvalidConfig wrapping a *DialectError; a serialization failure or a
// deadlock is a *store.ConflictError of Kind "transaction"; anything else
// is Unavailable.
package postgres
