package memstore

import (
	"context"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
)

// The feed numbers the events of the log: the event numbered k (counting
// from 0) is at the position store.MakePosition(0, k+1), so the position of
// the last event handled is also how many events precede the next one.
// Every change appends its events under the write lock, so the numbers are
// the order of commit and an event is readable as soon as it is numbered.

var _ store.Checkpointer = (*Store)(nil)

// EventsAfter implements store.Store.
func (s *Store) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	if err := ctx.Err(); err != nil {
		return nil, after, err
	}
	limit, err := store.FeedLimit(limit)
	if err != nil {
		return nil, after, err
	}
	hi, k := after.Parts()
	if hi != 0 {
		return nil, after, store.ForeignPosition(after)
	}
	// The log is read outside the lock: what was logged when it is copied
	// never changes (see eventLog).
	s.mu.RLock()
	log := s.events
	s.mu.RUnlock()
	if k > log.n {
		return nil, after, &store.FuturePositionError{Position: after, Head: store.MakePosition(0, log.n)}
	}
	end := min(log.n, k+uint64(limit))
	out := make([]store.FeedEvent, 0, end-k)
	log.from(k, end, func(e *coupon.Event) bool {
		k++
		out = append(out, store.FeedEvent{Position: store.MakePosition(0, k), Event: *e})
		return true
	})
	if len(out) == 0 {
		return nil, after, nil
	}
	return out, out[len(out)-1].Position, nil
}

// Checkpoint implements store.Checkpointer.
func (s *Store) Checkpoint(ctx context.Context, consumer string) (store.Position, error) {
	if err := ctx.Err(); err != nil {
		return store.Position{}, err
	}
	if err := store.CheckConsumer(consumer); err != nil {
		return store.Position{}, err
	}
	s.mu.RLock()
	p, ok := s.checkpoints[consumer]
	s.mu.RUnlock()
	if !ok {
		return store.Position{}, &store.UnknownConsumerError{Consumer: consumer}
	}
	return p, nil
}

// SaveCheckpoint implements store.Checkpointer.
func (s *Store) SaveCheckpoint(ctx context.Context, consumer string, p store.Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := store.CheckConsumer(consumer); err != nil {
		return err
	}
	hi, k := p.Parts()
	if hi != 0 {
		return store.ForeignPosition(p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k > s.events.n {
		return &store.FuturePositionError{Position: p, Head: store.MakePosition(0, s.events.n)}
	}
	s.checkpoints[consumer] = p
	return nil
}
