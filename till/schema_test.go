package till_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/till"
)

// oldSchema is the journal's tables as a till wrote them before its schema
// had versions.
const oldSchema = `
CREATE TABLE till_lease (
	id        TEXT PRIMARY KEY,
	series_id TEXT NOT NULL,
	granted   INTEGER NOT NULL,
	returned  INTEGER NOT NULL DEFAULT 0,
	used      INTEGER NOT NULL DEFAULT 0 CHECK (used + returned <= granted),
	end_ns    INTEGER NOT NULL,
	closed    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE till_journal (
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
CREATE INDEX till_journal_pending ON till_journal (synced, seq);
CREATE INDEX till_journal_code ON till_journal (series_id, code, customer);
CREATE INDEX till_journal_customer ON till_journal (series_id, customer, sale_ns);
CREATE TABLE till_series (
	id     TEXT PRIMARY KEY,
	config TEXT NOT NULL
);
INSERT INTO till_lease (id, series_id, granted, used, end_ns) VALUES ('l1', 's1', 5, 2, %d);
INSERT INTO till_journal (key, lease_id, series_id, code, customer, bill, currency, sale_ns, synced)
	VALUES ('a', 'l1', 's1', 'abc', 'alice', '50.00', 'EUR', %d, 1),
	       ('b', 'l1', 's1', ' Abc', 'bob', '50.00', 'EUR', %d, 0);
INSERT INTO till_series (id, config) VALUES ('s1', '{"id":"s1","name":"s1","time_zone":"UTC",
	"redemption":{"anyone_may_redeem":true,"repeat":true,"max_per_code":3},
	"discount":{"kind":"fixed","amount":"5","currency":"EUR"}}');
`

// TestOpenOlderFile: a file made with the schema before versions opens;
// its entries, lease counts and sync state are kept, its codes made
// canonical and counted as one, its earlier uses counted as unverified,
// and it takes new uses, reversals and feed pages. Opening it again
// migrates nothing twice.
func TestOpenOlderFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db := openDB(t, path)
	ns := t0.UnixNano()
	if _, err := db.Exec(fmt.Sprintf(oldSchema, t0.Add(time.Hour).UnixNano(), ns, ns)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := till.Open(ctx, db, skew); err != nil {
			t.Fatal(err)
		}
	}
	j, err := till.Open(ctx, db, skew)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != till.SchemaVersion() {
		t.Fatalf("user_version %d, %v", v, err)
	}
	p, err := j.Pending(ctx, 0, 0)
	if err != nil || len(p) != 1 || p[0].Key != "b" || p[0].Code != "ABC" || p[0].LeaseID != "l1" || p[0].Seq != 2 {
		t.Fatalf("pending after the migration: %+v, %v", p, err)
	}
	if left, err := j.Left(ctx, "l1"); err != nil || left != 3 {
		t.Fatalf("left %d, %v; want 3", left, err)
	}
	if _, err := j.Redeem(ctx, sale{"ABC", "carol", t0, ""}.use("c"), nil); err == nil {
		t.Fatal("the old uses were counted as unverified: the lease has no allowance")
	}
	grant(t, j, "l1", 5) // the central's answer, now with an allowance of 5
	if _, err := j.Redeem(ctx, sale{"ABC", "carol", t0, ""}.use("c"), nil); err != nil {
		t.Fatal(err)
	}
	_, err = j.Redeem(ctx, sale{"abc", "dave", t0, ""}.use("d"), nil)
	checkRefusal(t, err, errcode.Redeemed, refusal.UsedUp)
	if _, err := j.Reverse(ctx, till.Reversal{Key: "r", Reverses: "a", At: t0}, nil); err != nil {
		t.Fatal(err)
	}
	if e, err := j.Redeem(ctx, sale{"abc", "dave", t0, ""}.use("d"), nil); err != nil || e.Seq != 5 {
		t.Fatalf("after the reversal: %+v, %v", e, err)
	}
	if err := j.ApplyFeed(ctx, page(1)); err != nil {
		t.Fatal(err)
	}
}
