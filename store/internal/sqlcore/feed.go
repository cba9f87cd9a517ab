package sqlcore

import (
	"context"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// EventsAfter implements store.Store. Not yet: the SQL feed comes with
// its schema step.
func (s *Store) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	return nil, after, errcode.New(errcode.Unavailable, "EventsAfter", "the SQL stores have no feed yet")
}
