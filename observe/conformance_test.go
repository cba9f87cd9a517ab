package observe_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// counter counts the calls it is told of, and those it is told twice.
type counter struct{ started, ended, twice atomic.Int64 }

func (c *counter) Start(ctx context.Context, _ observe.Op) (context.Context, func(observe.Outcome)) {
	c.started.Add(1)
	var done atomic.Bool
	return ctx, func(observe.Outcome) {
		if done.Swap(true) {
			c.twice.Add(1)
		}
		c.ended.Add(1)
	}
}

// TestStoreConformance runs the storetest suite against memstore wrapped
// by Store: the wrapper changes nothing a store does, and ends every call
// it starts, once.
func TestStoreConformance(t *testing.T) {
	var c counter
	storetest.Run(t, func(*testing.T) store.Store { return observe.Store(memstore.New(), &c) }, storetest.Sizes{})
	if c.started.Load() == 0 || c.started.Load() != c.ended.Load() || c.twice.Load() != 0 {
		t.Errorf("started %d calls, ended %d, %d twice", c.started.Load(), c.ended.Load(), c.twice.Load())
	}
}
