package sqltest

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// migrated returns how many migrations the database records and the
// latest of their versions.
func migrated(t *testing.T, db *sql.DB) (n, latest int) {
	t.Helper()
	if err := db.QueryRow("SELECT count(*), coalesce(max(version), 0) FROM ck_migrations").Scan(&n, &latest); err != nil {
		t.Fatal(err)
	}
	return n, latest
}

// WantMigrated fails the test unless the database is at the schema
// version of migrations, each of them recorded once.
func WantMigrated(t *testing.T, db *sql.DB, migrations fs.FS) {
	t.Helper()
	ms, err := sqlcore.ReadMigrations(migrations)
	if err != nil || len(ms) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	n, latest := migrated(t, db)
	if latest != ms[len(ms)-1].Version || n != len(ms) {
		t.Errorf("%d migration rows up to version %d, want %d up to %d", n, latest, len(ms), ms[len(ms)-1].Version)
	}
}

func testMigrateTwice(t *testing.T, be Backend) {
	s := be.Open(t)
	CreateSeries(t, s, "s1")
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	WantMigrated(t, s.DB(), be.Migrations)
	if _, err := s.Series(ctx, "s1"); err != nil {
		t.Errorf("data lost by a second Migrate: %v", err)
	}
	// A database from a newer build is refused.
	if _, err := s.DB().Exec("INSERT INTO ck_migrations (version, name, applied_at) VALUES (999, 'future', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, errcode.ErrInvalidConfig) {
		t.Errorf("Migrate on a newer schema: %v, want InvalidConfig", err)
	}
}

// testMigrationsSplit checks that each migration splits into single
// statements: the files end statements with ";" at the end of a line and
// keep comments on lines of their own. Each statement creates, alters or
// drops a table, index, function or trigger, or moves rows. A function's
// $$-quoted body may hold ";", and goose's StatementBegin and StatementEnd
// annotations enclose each statement that has one, so that goose too runs
// it whole.
func testMigrationsSplit(t *testing.T, be Backend) {
	d := be.Name
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 || !strings.HasSuffix(m.Name, ".up.sql") {
			t.Errorf("%s: migration %d is %s, version %d: want versions 1, 2, ... in NNNN_name.up.sql files", d, i, m.Name, m.Version)
		}
		src, err := fs.ReadFile(be.Migrations, m.Name)
		if err != nil || !strings.HasPrefix(string(src), "-- +goose Up\n") {
			t.Errorf("%s: %s does not begin with goose's Up annotation (%v)", d, m.Name, err)
		}
		bodies := 0
		for _, st := range m.Stmts {
			verb, _, _ := strings.Cut(st, " ")
			if strings.Contains(st, "$$") {
				bodies++
				head, rest, _ := strings.Cut(st, "$$")
				_, tail, _ := strings.Cut(rest, "$$")
				st = head + tail
			}
			if strings.Contains(st, ";") || strings.Contains(st, "--") ||
				!slices.Contains([]string{"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}, verb) {
				t.Errorf("%s %s: statement %q is not one CREATE, ALTER, DROP, INSERT or UPDATE without comments", d, m.Name, st)
			}
		}
		begins, ends := strings.Count(string(src), "\n-- +goose StatementBegin\n"), strings.Count(string(src), "\n-- +goose StatementEnd\n")
		if begins != bodies || ends != bodies {
			t.Errorf("%s %s: %d statements with a $$ body, %d StatementBegin and %d StatementEnd annotations", d, m.Name, bodies, begins, ends)
		}
	}
}

// testMigrateAudienceFromVersion1 upgrades a database at schema version 1
// holding audience members: they stay on the list, with no time added, and
// the upgraded list takes members with their time.
func testMigrateAudienceFromVersion1(t *testing.T, be Backend) {
	db := be.OpenDB(t)
	ctx := context.Background()
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil || ms[0].Version != 1 {
		t.Fatalf("migrations: %v", err)
	}
	for _, st := range append(ms[0].Stmts, sqlcore.MigrationsTable,
		"INSERT INTO ck_migrations (version, name, applied_at) VALUES (1, '"+ms[0].Name+"', 0)",
		"INSERT INTO ck_audience (series_id, customer) VALUES ('s1', 'bob'), ('s1', 'alice')") {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("setting up version 1: %v", err)
		}
	}
	s := be.New(db)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 1: %v", err)
	}
	if be.Name == "postgres" {
		// The list pages byte-wise whatever the database's collation.
		var coll sql.NullString
		err := db.QueryRowContext(ctx, "SELECT collation_name FROM information_schema.columns "+
			"WHERE table_schema = current_schema() AND table_name = 'ck_audience' AND column_name = 'customer'").Scan(&coll)
		if err != nil || coll.String != "C" {
			t.Errorf("ck_audience.customer collation: %v, %v; want C", coll, err)
		}
	}
	at := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	if err := s.Apply(ctx, &store.Change{Audience: []store.AudienceUpdate{{SeriesID: "s1", Customer: "carol", At: at}}}); err != nil {
		t.Fatalf("Apply after the upgrade: %v", err)
	}
	got, err := s.Audience(ctx, store.AudienceQuery{SeriesID: "s1"})
	want := []store.AudienceMember{{Customer: "alice"}, {Customer: "bob"}, {Customer: "carol", AddedAt: at}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Audience after the upgrade: %v, %v; want %v", got, err, want)
	}
	for i := range want {
		if got[i].Customer != want[i].Customer || !got[i].AddedAt.Equal(want[i].AddedAt) {
			t.Errorf("member %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// testMigrateIssueKeysFromVersion1 upgrades a database at schema version 1
// holding a coupon: the coupon reads back as it was, without an issue key,
// and the upgraded table keeps issue keys unique per series.
func testMigrateIssueKeysFromVersion1(t *testing.T, be Backend) {
	db := be.OpenDB(t)
	ctx := context.Background()
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil || ms[0].Version != 1 {
		t.Fatalf("migrations: %v", err)
	}
	for _, st := range append(ms[0].Stmts, sqlcore.MigrationsTable,
		"INSERT INTO ck_migrations (version, name, applied_at) VALUES (1, '"+ms[0].Name+"', 0)",
		`INSERT INTO ck_series (id, status, version, doc) VALUES ('s1', 1, 1, '{"ID":"s1"}')`,
		"INSERT INTO ck_coupons (id, series_id, code, canonical, shared, state, holder, redemptions, holds, reversed, "+
			"reissued_from, reissued_to, version, slot) VALUES ('old', 's1', 'Old', 'OLD', false, 2, 'alice', 0, 0, false, '', '', 2, '')") {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("setting up version 1: %s: %v", st, err)
		}
	}
	s := be.New(db)
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from version 1: %v", err)
	}
	old, err := s.Coupon(ctx, "old")
	if err != nil || old.Holder != "alice" || old.Code != "Old" || old.Version != 2 || old.IssueKey != "" {
		t.Fatalf("the coupon of version 1 after the upgrade: %+v, %v", old, err)
	}
	keyed := old
	keyed.ID, keyed.Code, keyed.Canonical, keyed.IssueKey = "new", "New", "NEW", "k1"
	if err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{keyed}}); err != nil {
		t.Fatalf("a coupon with an issue key after the upgrade: %v", err)
	}
	again := keyed
	again.ID, again.Code, again.Canonical = "again", "Again", "AGAIN"
	err = s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{again}})
	var ex *store.ExistsError
	if !errors.As(err, &ex) || ex.Kind != "issue" {
		t.Errorf("a second coupon with the issue key after the upgrade: %v, want an ExistsError of kind issue", err)
	}
}

// testMigrateCounterHolderFromVersion4 upgrades a database at schema
// version 4, whose code-level counters keep a shared code's holder in the
// code after a NUL byte, and checks that every counter reads back under
// its key with the holder in a field of its own, whatever backslashes the
// code and the holder hold; counters of other scopes and codes without a
// holder keep their key. The upgraded table then bumps them in place.
func testMigrateCounterHolderFromVersion4(t *testing.T, be Backend) {
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
	db := be.OpenDB(t)
	ctx := context.Background()
	ms, err := sqlcore.ReadMigrations(be.Migrations)
	if err != nil || len(ms) < 5 || ms[3].Version != 4 {
		t.Fatalf("migrations: %v", err)
	}
	setup := []string{sqlcore.MigrationsTable}
	for _, m := range ms[:4] {
		setup = append(setup, m.Stmts...)
		setup = append(setup, "INSERT INTO ck_migrations (version, name, applied_at) VALUES ("+strconv.Itoa(m.Version)+", '"+m.Name+"', 0)")
	}
	for _, st := range setup {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("setting up version 4: %s: %v", st, err)
		}
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, "INSERT INTO ck_counters (counter, series_id, code, customer, n, last) VALUES ($1, 's1', $2, $3, $4, $5)",
			int64(r.counter), sqlcore.KeyText(r.code), sqlcore.KeyText(r.customer), r.n, last.UnixNano()); err != nil {
			t.Fatalf("a counter of version 4: %v", err)
		}
	}
	s := be.New(db)
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
}
