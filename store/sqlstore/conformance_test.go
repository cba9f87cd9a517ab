package sqlstore_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/storetest"
)

// sqlCaps sizes the conformance suite for a SQL store: fewer race rounds
// and model sequences than for memory, every race still at full
// parallelism.
var sqlCaps = storetest.Sizes{RaceRounds: 4, RapidChecks: 15, RapidSteps: 50}

// TestConformance runs the storetest suite against SQLite (a file in a
// temporary directory) and, when COUPONKIT_TEST_POSTGRES is set,
// PostgreSQL (a schema per subtest).
func TestConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			b.skipUnavailable(t)
			storetest.Run(t, func(t *testing.T) store.Store { return b.open(t) }, sqlCaps)
		})
	}
}

// BenchmarkConformance runs the storetest benchmarks on both dialects.
func BenchmarkConformance(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			be.skipUnavailable(b)
			storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return be.open(b) })
		})
	}
}
