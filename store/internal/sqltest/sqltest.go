// Package sqltest holds the tests that every SQL store of couponkit runs:
// store/sqlite and store/postgres call Run from their own tests with a
// Backend of their database. They test what the shared core does over a
// real database (group commit, multi-row statements, caller's
// transactions, migrations from older versions, errors); the store
// contract itself is package storetest's.
package sqltest

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"
	"time"

	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// Store is what the tests use of a SQL store: sqlite.Store and
// postgres.Store.
type Store interface {
	store.Store
	store.SeriesVersioner
	Migrate(context.Context) error
	WithTx(*sql.Tx) store.Store
	DB() *sql.DB
	Close() error
}

// Backend is one database the tests run on.
type Backend struct {
	// Name is the database: "sqlite" or "postgres".
	Name string
	// OpenDB returns an empty database of its own, closed when the test
	// ends; it skips the test when the database is not configured.
	OpenDB func(t testing.TB) *sql.DB
	// New makes a store over db, and Core returns the shared store inside
	// one, for the tests that compare its two ways of writing a change.
	New  func(db *sql.DB) Store
	Core func(s Store) *sqlcore.Store
	// Migrations are the database's migration files.
	Migrations fs.FS
}

// Open returns a store over a fresh database, migrated, closed when the
// test ends.
func (b Backend) Open(t testing.TB) Store {
	t.Helper()
	s := b.New(b.OpenDB(t))
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// tests are the shared tests, by name.
var tests = []struct {
	name string
	fn   func(t *testing.T, b Backend)
}{
	{"CouponRoundTrip", testCouponRoundTrip},
	{"RedemptionAndAtomicity", testRedemptionAndAtomicity},
	{"GuardErrorOrder", testGuardErrorOrder},
	{"GuardGapAndDecrement", testGuardGapAndDecrement},
	{"RedemptionUpdatesAndQueries", testRedemptionUpdatesAndQueries},
	{"InsertCouponsIdempotent", testInsertCouponsIdempotent},
	{"ListCouponsFilters", testListCouponsFilters},
	{"UpdateWhere", testUpdateWhere},
	{"ExpireByTime", testExpireByTime},
	{"GroupMixedFailures", testGroupMixedFailures},
	{"GroupFold", testGroupFold},
	{"GroupUnkeepable", testGroupUnkeepable},
	{"GroupStaleCoupon", testGroupStaleCoupon},
	{"GroupIndexedColumns", testGroupIndexedColumns},
	{"EngineLifecycle", testEngineLifecycle},
	{"HotSeriesRace", testHotSeriesRace},
	{"Generate", testGenerate},
	{"ApplyLargeChange", testApplyLargeChange},
	{"ApplyLargeChangeNamesRow", testApplyLargeChangeNamesRow},
	{"WithTxLargeChange", testWithTxLargeChange},
	{"CountersManyKeys", testCountersManyKeys},
	{"ReadCode", testReadCode},
	{"WithTx", testWithTx},
	{"WithTxBulk", testWithTxBulk},
	{"MigrateTwice", testMigrateTwice},
	{"MigrationsSplit", testMigrationsSplit},
	{"MigrateAudienceFromVersion1", testMigrateAudienceFromVersion1},
	{"MigrateIssueKeysFromVersion1", testMigrateIssueKeysFromVersion1},
	{"MigrateCounterHolderFromVersion4", testMigrateCounterHolderFromVersion4},
	{"MigrateFeedFromVersion5", testMigrateFeedFromVersion5},
	{"MigrateLeasesFromVersion6", testMigrateLeasesFromVersion6},
	{"LeasesWithTx", testLeasesWithTx},
	{"FeedPositionForms", testFeedPositionForms},
	{"NotMigrated", testNotMigrated},
	{"MultiRowEqualsOneByOne", testMultiRowEqualsOneByOne},
}

// Run runs every shared test on b, each a subtest.
func Run(t *testing.T, b Backend) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// RunEquivalence runs the shared test that compares Apply with
// sqlcore.ApplyRowByRow on random changes, alone: for a store that writes
// changes its own way.
func RunEquivalence(t *testing.T, b Backend) { testMultiRowEqualsOneByOne(t, b) }

// t0 is the tests' base time.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// NewSeries returns a minimal valid series with the given id.
func NewSeries(id string) series.Series {
	return series.Series{
		ID: id, Name: "Series " + id, Status: series.Active, TimeZone: "UTC",
		Source: series.Source{Kind: series.Uploaded}, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
}

// CreateSeries stores series with the given ids.
func CreateSeries(t testing.TB, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Apply(context.Background(), &store.Change{Series: &store.SeriesWrite{Series: NewSeries(id)}}); err != nil {
			t.Fatalf("creating series %s: %v", id, err)
		}
	}
}
