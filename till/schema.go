package till

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/couponkit/couponkit/series"
)

// schemaV0 is the journal's first schema, as files made before migrations
// hold it: the leases the till holds (with its own count of the uses it
// made of each), the journal of offline uses and the configuration of
// each series as the till last synced it. Open creates it when missing
// and then runs the migrations, so a new file and an old one take the
// same path.
const schemaV0 = `
CREATE TABLE IF NOT EXISTS till_lease (
	id        TEXT PRIMARY KEY,
	series_id TEXT NOT NULL,
	granted   INTEGER NOT NULL,
	returned  INTEGER NOT NULL DEFAULT 0,
	used      INTEGER NOT NULL DEFAULT 0 CHECK (used + returned <= granted),
	end_ns    INTEGER NOT NULL,
	closed    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS till_journal (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	key       TEXT NOT NULL UNIQUE,
	lease_id  TEXT NOT NULL REFERENCES till_lease(id),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	customer  TEXT NOT NULL,
	bill      TEXT NOT NULL,
	currency  TEXT NOT NULL,
	sale_ns   INTEGER NOT NULL,
	synced    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS till_journal_pending ON till_journal (synced, seq);
CREATE INDEX IF NOT EXISTS till_journal_code ON till_journal (series_id, code, customer);
CREATE INDEX IF NOT EXISTS till_journal_customer ON till_journal (series_id, customer, sale_ns);
CREATE TABLE IF NOT EXISTS till_series (
	id     TEXT PRIMARY KEY,
	config TEXT NOT NULL
);
`

// migrationV1 brings a version 0 file to version 1:
//
//   - a lease keeps its allowance of unverified uses and the till's count
//     of the unverified uses it made of it (every use made before, when
//     the till knew no code, was unverified);
//   - the journal is rebuilt so that an entry may draw on no lease (an
//     online use the central did not count on one of the till's leases),
//     and records whether the central decided it (online), whether it is
//     a reversal (reverses: the key it gives back) or was given back
//     (reversed), and whether the till knew the code from the feed
//     (verified);
//   - till_code keeps what the feed told of each code, and till_feed the
//     position the till has read the feed to.
//
// The codes of the old entries are made canonical by canonicalizeV1.
const migrationV1 = `
ALTER TABLE till_lease ADD COLUMN allowance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE till_lease ADD COLUMN unverified INTEGER NOT NULL DEFAULT 0;
UPDATE till_lease SET unverified = used;
CREATE TABLE till_journal_v1 (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	key       TEXT NOT NULL UNIQUE,
	lease_id  TEXT REFERENCES till_lease(id),
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	customer  TEXT NOT NULL,
	bill      TEXT NOT NULL,
	currency  TEXT NOT NULL,
	sale_ns   INTEGER NOT NULL,
	synced    INTEGER NOT NULL DEFAULT 0,
	online    INTEGER NOT NULL DEFAULT 0,
	reverses  TEXT NOT NULL DEFAULT '',
	reversed  INTEGER NOT NULL DEFAULT 0,
	verified  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO till_journal_v1 (seq, key, lease_id, series_id, code, customer, bill, currency, sale_ns, synced)
	SELECT seq, key, lease_id, series_id, code, customer, bill, currency, sale_ns, synced FROM till_journal;
DROP TABLE till_journal;
ALTER TABLE till_journal_v1 RENAME TO till_journal;
CREATE INDEX till_journal_pending ON till_journal (synced, seq);
CREATE INDEX till_journal_code ON till_journal (series_id, code, customer);
CREATE INDEX till_journal_customer ON till_journal (series_id, customer, sale_ns);
CREATE TABLE till_code (
	series_id TEXT NOT NULL,
	code      TEXT NOT NULL,
	owner     TEXT NOT NULL DEFAULT '',
	state     INTEGER NOT NULL,
	holder    TEXT NOT NULL DEFAULT '',
	changed_ns INTEGER NOT NULL DEFAULT 0,
	expires_ns INTEGER NOT NULL DEFAULT 0,
	uses      INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (series_id, code, owner)
);
CREATE TABLE till_feed (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	position TEXT NOT NULL
);
`

// migrationV3 brings a version 2 file to version 3:
//
//   - a lease keeps the Version of the central's answer the till holds
//     (0: an answer kept before versions, which any answer replaces), so
//     that an older answer arriving late never rolls it back, and the uses
//     the till set aside for a return whose answer it has not had
//     (reserved);
//   - till_call keeps the lease calls the till sent and has no answer to,
//     so that it sends them again, with the same key, until the central
//     answers.
const migrationV3 = `
ALTER TABLE till_lease ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE till_lease ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0);
CREATE TABLE till_call (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	key       TEXT NOT NULL UNIQUE,
	kind      INTEGER NOT NULL,
	series_id TEXT NOT NULL,
	lease_id  TEXT NOT NULL DEFAULT '',
	uses      INTEGER NOT NULL DEFAULT 0,
	end_ns    INTEGER NOT NULL DEFAULT 0
);
`

// migrationV4 brings a version 3 file to version 4: a lease of a series
// with a budget keeps the money the central granted and took back
// (money_granted, money_returned, minor units of the series' currency,
// as the central's answer says) and the till's own count of the money its
// offline uses spent of it (money_used); a journal entry keeps the
// discount the till gave for a series with a budget (discount and
// discount_cur, its amount and currency) and what it spent of its lease's
// money (budget, minor units).
const migrationV4 = `
ALTER TABLE till_lease ADD COLUMN money_granted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE till_lease ADD COLUMN money_returned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE till_lease ADD COLUMN money_used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE till_journal ADD COLUMN discount TEXT NOT NULL DEFAULT '';
ALTER TABLE till_journal ADD COLUMN discount_cur TEXT NOT NULL DEFAULT '';
ALTER TABLE till_journal ADD COLUMN budget INTEGER NOT NULL DEFAULT 0;
`

// SchemaVersion is the version of the journal's schema this code makes
// and reads (SQLite's PRAGMA user_version of a journal's file).
func SchemaVersion() int { return len(migrations) }

// migrations are the steps from each version to the next: migrations[i]
// takes a file of version i to version i+1.
var migrations = []func(context.Context, *sql.Tx) error{
	func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, migrationV1); err != nil {
			return err
		}
		return canonicalizeV1(ctx, tx)
	},
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, migrationV2)
		return err
	},
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, migrationV3)
		return err
	},
	func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, migrationV4)
		return err
	},
}

// migrate creates the first schema when missing and runs, in one
// transaction, the migrations the file has not had (PRAGMA user_version
// counts them). A file newer than this code is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schemaV0); err != nil {
		return err
	}
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("the file's schema is version %d, newer than this code's %d", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		if err := migrations[v](ctx, tx); err != nil {
			return fmt.Errorf("migrating to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		return err
	}
	return tx.Commit()
}

// canonicalizeV1 rewrites the codes of the entries an older till wrote as
// typed into their canonical form by their series' synced configuration
// (series.Source.CanonicalCode); a code the rule cannot read is left as it
// is.
func canonicalizeV1(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT j.series_id, j.code, s.config
FROM till_journal j JOIN till_series s ON s.id = j.series_id`)
	if err != nil {
		return err
	}
	type fix struct{ seriesID, from, to string }
	var fixes []fix
	for rows.Next() {
		var id, code, config string
		if err := rows.Scan(&id, &code, &config); err != nil {
			rows.Close()
			return err
		}
		var s series.Series
		if json.Unmarshal([]byte(config), &s) != nil {
			continue
		}
		if c, err := s.Source.CanonicalCode(nil, code); err == nil && c != code {
			fixes = append(fixes, fix{id, code, c})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range fixes {
		if _, err := tx.ExecContext(ctx, `UPDATE till_journal SET code = ? WHERE series_id = ? AND code = ?`, f.to, f.seriesID, f.from); err != nil {
			return err
		}
	}
	return nil
}
