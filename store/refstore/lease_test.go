package refstore_test

import (
	"testing"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/refstore"
	"github.com/couponkit/couponkit/storetest"
)

func TestLeases(t *testing.T) {
	storetest.RunLeases(t, func(*testing.T) store.Store { return refstore.New() }, storetest.Sizes{})
}
