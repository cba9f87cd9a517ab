package sqlite_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/storetest"
)

// TestLeases runs the storetest lease tier on a file in a temporary
// directory per subtest.
func TestLeases(t *testing.T) {
	storetest.RunLeases(t, func(t *testing.T) store.Store { return open(t) }, caps)
}
