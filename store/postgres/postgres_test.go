package postgres_test

import (
	"database/sql"
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/internal/sqltest"
	"github.com/couponkit/couponkit/store/postgres"
	"github.com/couponkit/couponkit/storetest"
)

// TestSQL runs the tests every SQL store of couponkit runs.
func TestSQL(t *testing.T) { sqltest.Run(t, backend) }

// TestSQLUncombinedReads runs the shared tests with combined code reads
// off: each code read a statement of its own.
func TestSQLUncombinedReads(t *testing.T) { sqltest.Run(t, uncombinedBackend) }

// TestCopyEqualsOneByOne compares, on random changes, Apply writing
// every change of new coupons with COPY (applyCopy, which the store keeps
// for changes of 1,000 coupons or more) with one statement per row and
// per bump.
func TestCopyEqualsOneByOne(t *testing.T) {
	sqltest.RunEquivalence(t, sqltest.Backend{
		Name:       "postgres",
		OpenDB:     backend.OpenDB,
		New:        func(db *sql.DB) sqltest.Store { return postgres.NewCopyFrom(db, 1) },
		Core:       backend.Core,
		Migrations: backend.Migrations,
	})
}

// caps sizes the conformance suite for a server: fewer race rounds and
// model sequences than for memory, every race still at full parallelism;
// short under the race detector.
var caps = storetest.Sizes{RaceRounds: 4, RapidChecks: 15, RapidSteps: 50, Short: raceEnabled}

// TestConformance runs the storetest suite, on a schema of its own per
// subtest.
func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) }, caps)
}

// BenchmarkConformance runs the storetest benchmarks.
func BenchmarkConformance(b *testing.B) {
	dsn(b)
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return open(b) })
}

// BenchmarkBulkInsert1M: see sqltest.BenchBulkInsert1M.
func BenchmarkBulkInsert1M(b *testing.B) { sqltest.BenchBulkInsert1M(b, backend) }

// BenchmarkRedeemHotSeries: see sqltest.BenchRedeemHotSeries.
func BenchmarkRedeemHotSeries(b *testing.B) { sqltest.BenchRedeemHotSeries(b, backend) }

// BenchmarkApplyJournal: a till's sync at the central, journal entries
// applied per second (see sqltest.BenchApplyJournal).
func BenchmarkApplyJournal(b *testing.B) { sqltest.BenchApplyJournal(b, backend) }
