package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
)

// TestMigrateCounterHolderFromVersion4 upgrades a database at schema
// version 4, whose code-level counters keep a shared code's holder in the
// code after a NUL byte, and checks that every counter reads back under
// its key with the holder in a field of its own, whatever backslashes the
// code and the holder hold; counters of other scopes and codes without a
// holder keep their key. The upgraded table then bumps them in place.
func TestMigrateCounterHolderFromVersion4(t *testing.T) {
	last := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	type row struct {
		counter        limits.Counter
		code, customer string // as version 4 kept them, unescaped
		n              int64
		want           store.CounterKey // Code, Holder and Customer after the upgrade
	}
	rows := []row{
		{counter: limits.CodeUses, code: "SUMMER\x00alice", n: 3, want: store.CounterKey{Code: "SUMMER", Holder: "alice"}},
		{counter: limits.CustomerCodeUses, code: "SUMMER\x00alice", customer: "alice", n: 2, want: store.CounterKey{Code: "SUMMER", Holder: "alice", Customer: "alice"}},
		{counter: limits.CodeUses, code: `B\0S\\` + "\x00" + `ho\0\lder\`, n: 4, want: store.CounterKey{Code: `B\0S\\`, Holder: `ho\0\lder\`}},
		{counter: limits.CodeUses, code: `PLAIN\0`, n: 5, want: store.CounterKey{Code: `PLAIN\0`}},
		{counter: limits.CustomerCodeUses, code: "NOHOLDER\x00", customer: "bob", n: 6, want: store.CounterKey{Code: "NOHOLDER", Customer: "bob"}},
		{counter: limits.SeriesUses, n: 7, want: store.CounterKey{}},
		{counter: limits.CustomerIssued, customer: "x\x00y", n: 8, want: store.CounterKey{Customer: "x\x00y"}},
	}
	for _, d := range []Dialect{SQLite, Postgres} {
		t.Run(d.String(), func(t *testing.T) {
			db := openRawDB(t, d)
			ctx := context.Background()
			ms, err := migrations(d)
			if err != nil || len(ms) < 5 || ms[3].version != 4 {
				t.Fatalf("migrations: %v", err)
			}
			setup := []string{migrationsTable}
			for _, m := range ms[:4] {
				setup = append(setup, m.stmts...)
				setup = append(setup, "INSERT INTO ck_migrations (version, name, applied_at) VALUES ("+itoa(int64(m.version))+", '"+m.name+"', 0)")
			}
			for _, st := range setup {
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatalf("setting up version 4: %s: %v", st, err)
				}
			}
			for _, r := range rows {
				if _, err := db.ExecContext(ctx, "INSERT INTO ck_counters (counter, series_id, code, customer, n, last) VALUES ($1, 's1', $2, $3, $4, $5)",
					int64(r.counter), keyText(r.code), keyText(r.customer), r.n, last.UnixNano()); err != nil {
					t.Fatalf("a counter of version 4: %v", err)
				}
			}
			s := New(db, d)
			t.Cleanup(func() { s.Close() })
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate from version 4: %v", err)
			}
			keys := make([]store.CounterKey, len(rows))
			for i, r := range rows {
				keys[i] = r.want
				keys[i].Counter, keys[i].Series = r.counter, "s1"
			}
			got := make([]store.Count, len(keys))
			if err := s.Counters(ctx, keys, got); err != nil {
				t.Fatal(err)
			}
			for i := range keys {
				if got[i].N != rows[i].n || !got[i].Last.Equal(last) {
					t.Errorf("counter %v after the upgrade: %+v, want %d at %v", keys[i], got[i], rows[i].n, last)
				}
			}
			ch := &store.Change{Bumps: []store.Bump{{Key: keys[0], Delta: 1, At: last.Add(time.Hour), Guard: limits.Guard{Counter: limits.CodeUses, Limit: 4}}}}
			if err := s.Apply(ctx, ch); err != nil || ch.Bumps[0].After.N != rows[0].n+1 {
				t.Fatalf("a bump of an upgraded counter: %v, after %+v", err, ch.Bumps[0].After)
			}
			ch.Bumps[0].At = last.Add(2 * time.Hour)
			if err := s.Apply(ctx, ch); errcode.CodeOf(err) != errcode.GuardFailed {
				t.Errorf("a bump past the limit of an upgraded counter: %v, want GuardFailed", err)
			}
		})
	}
}
