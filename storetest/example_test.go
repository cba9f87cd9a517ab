package storetest_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// An adapter runs the suite from its own tests, with a constructor that
// returns a fresh, empty store of its own for each subtest. A store over
// a network scales the expensive parts down. (Compiled, not run: it needs
// a *testing.T.)
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() }, storetest.Sizes{})
	}
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() }, storetest.Sizes{
			Goroutines:  32, // at most the connection pool
			RaceRounds:  4,
			RapidChecks: 20,
			RapidSteps:  50,
		})
	}
}

// While an adapter is being written, its author runs one tier at a time:
// the store contract first, then the engine over the store, then the
// model test and the races.
func ExampleRunContract() {
	_ = func(t *testing.T) {
		storetest.RunContract(t, func(t *testing.T) store.Store { return memstore.New() }, storetest.Sizes{})
	}
}

// Benchmarks take the same constructor, for *testing.B.
func ExampleRunBenchmarks() {
	_ = func(b *testing.B) {
		storetest.RunBenchmarks(b, func(b *testing.B) store.Store { return memstore.New() })
	}
}
