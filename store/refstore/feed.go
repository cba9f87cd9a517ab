package refstore

import (
	"context"

	"github.com/couponkit/couponkit/store"
)

// The feed of a Store is its slice of events: the event at index i is at
// the position store.MakePosition(0, i+1). Every write appends under the
// one mutex, so the index order is the order of commit and nothing is
// ever inserted behind a reader. A database would number its events in
// commit order the same way, or hold back the events of transactions that
// may still commit behind a reader (see store.Store's EventsAfter).

var _ store.Checkpointer = (*Store)(nil)

// EventsAfter implements store.Store.
func (s *Store) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	limit, err := store.FeedLimit(limit)
	if err != nil {
		return nil, after, err
	}
	if err := s.lock(ctx); err != nil {
		return nil, after, err
	}
	defer s.mu.Unlock()
	hi, k := after.Parts()
	switch {
	case hi != 0:
		return nil, after, store.ForeignPosition(after)
	case k > uint64(len(s.events)):
		return nil, after, &store.FuturePositionError{Position: after, Head: store.MakePosition(0, uint64(len(s.events)))}
	}
	var out []store.FeedEvent
	for i := k; i < uint64(len(s.events)) && len(out) < limit; i++ {
		out = append(out, store.FeedEvent{Position: store.MakePosition(0, i+1), Event: s.events[i]})
	}
	if len(out) == 0 {
		return nil, after, nil
	}
	return out, out[len(out)-1].Position, nil
}

// Checkpoint implements store.Checkpointer.
func (s *Store) Checkpoint(ctx context.Context, consumer string) (store.Position, error) {
	if err := store.CheckConsumer(consumer); err != nil {
		return store.Position{}, err
	}
	if err := s.lock(ctx); err != nil {
		return store.Position{}, err
	}
	defer s.mu.Unlock()
	p, ok := s.checkpoints[consumer]
	if !ok {
		return store.Position{}, &store.UnknownConsumerError{Consumer: consumer}
	}
	return p, nil
}

// SaveCheckpoint implements store.Checkpointer.
func (s *Store) SaveCheckpoint(ctx context.Context, consumer string, p store.Position) error {
	if err := store.CheckConsumer(consumer); err != nil {
		return err
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	hi, k := p.Parts()
	switch {
	case hi != 0:
		return store.ForeignPosition(p)
	case k > uint64(len(s.events)):
		return &store.FuturePositionError{Position: p, Head: store.MakePosition(0, uint64(len(s.events)))}
	}
	s.checkpoints[consumer] = p
	return nil
}
