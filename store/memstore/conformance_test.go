package memstore_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// TestConformance runs the storetest suite against the in-memory store.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() }, storetest.Sizes{})
}

// BenchmarkConformance runs the storetest benchmarks against the in-memory
// store.
func BenchmarkConformance(b *testing.B) {
	storetest.RunBenchmarks(b, func(*testing.B) store.Store { return memstore.New() })
}
