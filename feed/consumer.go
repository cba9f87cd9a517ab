package feed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/store"
)

// Reader reads an event feed: every store.Store and *couponkit.Engine is
// one.
type Reader interface {
	EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error)
}

// Handler handles one batch of events, in position order. It returns nil
// when the whole batch is handled; an error hands the same batch again
// after a wait. It may be handed a batch it handled before (see the
// package documentation), and must honour ctx.
type Handler func(ctx context.Context, batch []store.FeedEvent) error

// The defaults of a Consumer's waits.
const (
	DefaultMinWait = 100 * time.Millisecond
	DefaultMaxWait = 5 * time.Second
)

// saveTimeout bounds the save of a checkpoint after a handled batch, which
// runs even when the consumer's context is done so that a clean stop
// records what was handled.
const saveTimeout = 5 * time.Second

// Consumer follows a feed for one named consumer. Set the fields, then
// call Run (or Poll). A Consumer is not safe for concurrent use, and two
// consumers with one name on one store deliver every event to both.
type Consumer struct {
	// Name is the consumer's name, under which its checkpoint is kept:
	// 1 to 128 bytes of UTF-8 without control characters
	// (store.CheckConsumer).
	Name string
	// Feed is what the consumer reads: the engine or its store.
	Feed Reader
	// Checkpoints keeps the consumer's position: the store (memstore and
	// the SQL stores implement store.Checkpointer), or the caller's own.
	Checkpoints store.Checkpointer
	// Handle handles each batch.
	Handle Handler
	// Start is where a consumer with no checkpoint yet begins: the zero
	// Position is the start of the feed.
	Start store.Position
	// Batch is the most events handed to Handle at once; 0 means
	// store.DefaultFeedLimit.
	Batch int
	// MinWait and MaxWait bound the wait between reads when the feed has
	// nothing new, and after an error; zero means DefaultMinWait and
	// DefaultMaxWait.
	MinWait, MaxWait time.Duration
	// Wake, when not nil, cuts a wait short each time it receives.
	Wake <-chan struct{}
	// OnError, when not nil, is told of each error that Run tries again
	// after a wait.
	OnError func(error)

	pos    store.Position // the position handled last
	loaded bool           // pos was read from Checkpoints
}

// Position returns the position of the last event the consumer handled,
// as saved (or, before the first Poll, the zero Position).
func (c *Consumer) Position() store.Position { return c.pos }

// check refuses a consumer that cannot run: its fields, and its name.
func (c *Consumer) check() error {
	var f errcode.Fields
	if c.Feed == nil {
		f.Add(errcode.InvalidConfig, "Feed", "is required")
	}
	if c.Checkpoints == nil {
		f.Add(errcode.InvalidConfig, "Checkpoints", "is required")
	}
	if c.Handle == nil {
		f.Add(errcode.InvalidConfig, "Handle", "is required")
	}
	if c.Batch < 0 || c.MinWait < 0 || c.MaxWait < 0 {
		f.Add(errcode.InvalidConfig, "Batch", "Batch, MinWait and MaxWait must not be negative")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return store.CheckConsumer(c.Name)
}

// Poll handles one batch: it reads the events after the consumer's
// checkpoint (the first time, from Checkpoints, or Start for a name never
// saved), hands them to Handle and, when it returns nil, saves the
// position of the last one. It returns how many events it handled (0 when
// there were none) and whether the feed may hold more now (the batch was
// full).
func (c *Consumer) Poll(ctx context.Context) (n int, more bool, err error) {
	if err := c.check(); err != nil {
		return 0, false, err
	}
	if !c.loaded {
		p, err := c.Checkpoints.Checkpoint(ctx, c.Name)
		var unknown *store.UnknownConsumerError
		switch {
		case errors.As(err, &unknown):
			p = c.Start
		case err != nil:
			return 0, false, fmt.Errorf("feed: consumer %q: reading its checkpoint: %w", c.Name, err)
		}
		c.pos, c.loaded = p, true
	}
	limit, _ := store.FeedLimit(c.Batch)
	batch, next, err := c.Feed.EventsAfter(ctx, c.pos, limit)
	if err != nil {
		return 0, false, fmt.Errorf("feed: consumer %q: reading after %s: %w", c.Name, c.pos, err)
	}
	if len(batch) == 0 {
		return 0, false, nil
	}
	if err := c.Handle(ctx, batch); err != nil {
		return 0, false, &HandlerError{Consumer: c.Name, After: c.pos, Events: len(batch), Err: err}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := c.Checkpoints.SaveCheckpoint(sctx, c.Name, next); err != nil {
		return 0, false, fmt.Errorf("feed: consumer %q: saving its checkpoint %s: %w", c.Name, next, err)
	}
	c.pos = next
	return len(batch), len(batch) == limit, nil
}

// Run polls the feed until ctx is done, waiting between reads as the
// package documentation describes, and returns ctx's error then. It
// returns at once, with the error, when the consumer is misconfigured or
// the feed refuses its name or position for good (InvalidConfig,
// InvalidArgument, FuturePosition); any other error, and every error of
// the handler (a *HandlerError), is told to OnError and tried again after
// a wait.
func (c *Consumer) Run(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	minWait, maxWait := c.MinWait, c.MaxWait
	if minWait == 0 {
		minWait = DefaultMinWait
	}
	if maxWait == 0 {
		maxWait = DefaultMaxWait
	}
	maxWait = max(maxWait, minWait)
	wait := time.Duration(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, more, err := c.Poll(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && permanent(err):
			return err
		case err != nil:
			if c.OnError != nil {
				c.OnError(err)
			}
			wait = min(max(2*wait, minWait), maxWait)
		case more:
			continue
		case n > 0:
			wait = minWait
		default:
			wait = min(max(2*wait, minWait), maxWait)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// permanent reports whether trying again cannot mend err, an error of
// Poll: a refusal of the consumer's configuration, name or position. A
// handler's error is never one.
func permanent(err error) bool {
	var h *HandlerError
	return !errors.As(err, &h) && (errors.Is(err, errcode.ErrInvalidConfig) ||
		errors.Is(err, errcode.ErrInvalidArgument) || errors.Is(err, errcode.ErrFuturePosition))
}

// HandlerError is the error of a batch the handler did not handle: the
// events after After, Events of them. Run hands the batch again after a
// wait.
type HandlerError struct {
	Consumer string
	After    store.Position
	Events   int
	Err      error
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("feed: consumer %q: handling %d events after %s: %v", e.Consumer, e.Events, e.After, e.Err)
}

// Unwrap returns the handler's error.
func (e *HandlerError) Unwrap() error { return e.Err }

// sleep waits d, or until Wake receives, or until ctx is done (its error).
func (c *Consumer) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-c.Wake:
	}
	return nil
}
