package couponkit_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// TestEngineConformance runs the engine scenarios of the conformance suite
// over the in-memory store, scaled down, so that the engine's own package
// measures what they cover.
func TestEngineConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() }, storetest.Sizes{Short: true})
}
