package sqltest

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/storetest"
)

// testReadCode runs storetest's contract test of store.CodeReader on the
// backend's store: the one-statement ReadCode (combined or not, as the
// backend's dialect says) against the rule it stands for.
func testReadCode(t *testing.T, be Backend) {
	storetest.RunCodeReader(t, func(t *testing.T) store.Store { return be.Open(t) })
}
