package postgres_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/storetest"
)

// TestLeases runs the storetest lease tier on a schema of its own per
// subtest; it skips when COUPONKIT_TEST_POSTGRES is unset.
func TestLeases(t *testing.T) {
	dsn(t)
	storetest.RunLeases(t, func(t *testing.T) store.Store { return open(t) }, caps)
}
