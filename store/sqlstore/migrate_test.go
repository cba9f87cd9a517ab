package sqlstore_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlstore"
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

// wantMigrated fails the test unless the database is at SchemaVersion,
// each of this build's migrations recorded once.
func wantMigrated(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	n, latest := migrated(t, db)
	if latest != sqlstore.SchemaVersion() || n != sqlstore.Migrations(d) {
		t.Errorf("%d migration rows up to version %d, want %d up to %d", n, latest, sqlstore.Migrations(d), sqlstore.SchemaVersion())
	}
}

func TestMigrateTwice(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		createSeries(t, s, "s1")
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		wantMigrated(t, s.DB(), s.Dialect())
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
	})
}

// TestMigrateConcurrently starts several "instances" on one fresh
// database at once; all succeed and the schema is applied once.
func TestMigrateConcurrently(t *testing.T) {
	const instances = 6
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ck.db")
		dbs := make([]*sql.DB, instances)
		for i := range dbs {
			db, err := sqlstore.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs[i] = db
		}
		migrateAll(t, dbs, sqlstore.SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		db := openPostgresDB(t, 0)
		dbs := make([]*sql.DB, instances)
		for i := range dbs {
			dbs[i] = db // one pool, several connections racing
		}
		migrateAll(t, dbs, sqlstore.Postgres)
	})
}

func migrateAll(t *testing.T, dbs []*sql.DB, d sqlstore.Dialect) {
	var wg sync.WaitGroup
	for _, db := range dbs {
		wg.Go(func() {
			if err := sqlstore.New(db, d).Migrate(ctx); err != nil {
				t.Errorf("Migrate: %v", err)
			}
		})
	}
	wg.Wait()
	wantMigrated(t, dbs[0], d)
	s := sqlstore.New(dbs[len(dbs)-1], d)
	createSeries(t, s, "s1")
	if err := s.Apply(ctx, &store.Change{NewCoupons: []coupon.Coupon{available("c1", "s1", "X")}}); err != nil {
		t.Fatal(err)
	}
}
