package store

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
)

// Position is a place in a store's event feed: every event a store keeps
// has one, and the positions of a store's events are in one total order,
// the order in which the feed delivers them. The zero Position is the
// start of the feed, before every event.
//
// A Position is opaque: its parts mean something only to the store that
// made it. Callers compare positions (==, Compare), keep them (String,
// MarshalText) and give them back to the same store (ParsePosition,
// UnmarshalText). A store makes its positions with MakePosition and reads
// them with Parts.
type Position struct{ hi, lo uint64 }

// MakePosition returns the position with the given parts, ordered by hi
// and then lo. Only a store makes positions, from its own record of the
// order of its events.
func MakePosition(hi, lo uint64) Position { return Position{hi, lo} }

// Parts returns the parts MakePosition was given.
func (p Position) Parts() (hi, lo uint64) { return p.hi, p.lo }

// IsZero reports whether p is the start of the feed.
func (p Position) IsZero() bool { return p == Position{} }

// Equal reports whether p and q are the same position (as p == q does).
func (p Position) Equal(q Position) bool { return p == q }

// Compare returns -1, 0 or +1 as p is before, at or after q in feed order.
func (p Position) Compare(q Position) int {
	return cmp.Or(cmp.Compare(p.hi, q.hi), cmp.Compare(p.lo, q.lo))
}

// String returns p as text: its two parts in decimal joined by "-", such
// as "0-42". ParsePosition reads it back.
func (p Position) String() string {
	return strconv.FormatUint(p.hi, 10) + "-" + strconv.FormatUint(p.lo, 10)
}

// MarshalText returns p.String().
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText sets p from text as ParsePosition reads it; on error p is
// unchanged.
func (p *Position) UnmarshalText(text []byte) error {
	v, err := ParsePosition(string(text))
	if err == nil {
		*p = v
	}
	return err
}

// ParsePosition reads a position written by Position.String. The empty
// string is the zero Position (the start of the feed). Anything else that
// is not two unsigned decimal numbers joined by "-" is an
// errcode.InvalidArgument error on field "Position".
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Position{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	hi, err1 := strconv.ParseUint(a, 10, 64)
	lo, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return Position{}, errcode.New(errcode.InvalidArgument, "Position", `is not a feed position ("<n>-<n>")`)
	}
	return Position{hi, lo}, nil
}

// FeedEvent is one event of the feed with its position.
type FeedEvent struct {
	Position Position     `json:"position"`
	Event    coupon.Event `json:"event"`
}

// DefaultFeedLimit is how many events Store.EventsAfter returns at most
// when its limit is 0.
const DefaultFeedLimit = 500

// FeedLimit checks the limit of a feed read: a negative one is an
// errcode.InvalidArgument error on field "Limit"; 0 means
// DefaultFeedLimit. Stores call it first in EventsAfter.
func FeedLimit(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, errcode.New(errcode.InvalidArgument, "Limit", "must not be negative")
	case limit == 0:
		return DefaultFeedLimit, nil
	}
	return limit, nil
}

// FuturePositionError reports a feed position past the last event the
// store has: a position this store never gave (one of another store, or
// made up). Head is the position of the store's last event that a reader
// may see now (the zero Position when there is none). It matches
// errcode.ErrFuturePosition.
type FuturePositionError struct {
	Position, Head Position
}

func (e *FuturePositionError) Error() string {
	return fmt.Sprintf("couponkit: %s (%d): position %s is past the store's last event, at %s",
		errcode.FuturePosition, errcode.FuturePosition, e.Position, e.Head)
}

// Unwrap returns an *errcode.Error with code FuturePosition, for
// errors.As.
func (e *FuturePositionError) Unwrap() error {
	return errcode.New(errcode.FuturePosition, "Position", "is past the store's last event")
}

// ForeignPosition is the error of a store given a position whose form no
// position it makes has (one of another kind of store): an
// errcode.InvalidArgument error on field "Position".
func ForeignPosition(p Position) error {
	return errcode.New(errcode.InvalidArgument, "Position", "position "+p.String()+" was not made by this store")
}

// Checkpointer is an optional interface a Store may implement: a position
// kept per consumer of the feed, so that a consumer that stops resumes
// where it left off. Saving a checkpoint is a write of the store, durable
// as its changes are.
type Checkpointer interface {
	// Checkpoint returns the position last saved under consumer. A name
	// never saved is an *UnknownConsumerError; a malformed name an
	// errcode.InvalidArgument error (see CheckConsumer).
	Checkpoint(ctx context.Context, consumer string) (Position, error)
	// SaveCheckpoint saves p under consumer, replacing what was saved. A
	// malformed name is an errcode.InvalidArgument error; a position past
	// the store's last event a *FuturePositionError, and nothing is saved.
	SaveCheckpoint(ctx context.Context, consumer string, p Position) error
}

// UnknownConsumerError reports a checkpoint read under a consumer name
// nothing was saved under. It matches errcode.ErrUnknownConsumer and
// errcode.ErrNotFound.
type UnknownConsumerError struct {
	Consumer string
}

func (e *UnknownConsumerError) Error() string {
	return fmt.Sprintf("couponkit: %s (%d): no checkpoint is saved for consumer %q",
		errcode.UnknownConsumer, errcode.UnknownConsumer, e.Consumer)
}

// Unwrap returns an *errcode.Error with code UnknownConsumer, for
// errors.As.
func (e *UnknownConsumerError) Unwrap() error {
	return errcode.New(errcode.UnknownConsumer, "Consumer", "no checkpoint is saved under this name")
}

// CheckConsumer checks a consumer name: 1 to 128 bytes of valid UTF-8
// without control characters, as an id. Anything else is an
// errcode.InvalidArgument error on field "Consumer". Stores call it first
// in the Checkpointer methods.
func CheckConsumer(name string) error {
	if name == "" {
		return errcode.New(errcode.InvalidArgument, "Consumer", "is empty")
	}
	return input.Text("Consumer", input.ID, name)
}
