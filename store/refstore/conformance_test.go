package refstore_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/refstore"
	"github.com/couponkit/couponkit/storetest"
)

// TestConformance runs the storetest conformance suite against Store, at
// its short sizes under the race detector.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return refstore.New() }, storetest.Sizes{Short: raceEnabled})
}

// BenchmarkConformance runs the storetest benchmarks against Store.
func BenchmarkConformance(b *testing.B) {
	storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return refstore.New() })
}
