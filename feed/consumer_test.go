package feed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/feed"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// write appends n events to st, one change each, with ids prefix-0 ...
func write(t *testing.T, st store.Store, prefix string, n int) {
	t.Helper()
	for i := range n {
		ev := coupon.Event{ID: fmt.Sprintf("%s-%d", prefix, i), Kind: coupon.EventCreated, CouponID: "c", At: time.Unix(1, 0)}
		if err := st.Apply(context.Background(), &store.Change{Events: []coupon.Event{ev}}); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder is a handler that records the ids it was handed.
type recorder struct {
	mu   sync.Mutex
	ids  []string
	fail func(batch []store.FeedEvent) error // nil: handle everything
}

func (r *recorder) handle(_ context.Context, batch []store.FeedEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(batch); err != nil {
			return err
		}
	}
	for _, fe := range batch {
		r.ids = append(r.ids, fe.Event.ID)
	}
	return nil
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// drain polls until a poll handles nothing.
func drain(t *testing.T, c *feed.Consumer) {
	t.Helper()
	for {
		n, _, err := c.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func ids(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func sameIDs(t *testing.T, got, want []string, what string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: handled %v; want %v", what, got, want)
	}
}

// A consumer hands every event once, in order, in batches of at most
// Batch, saves its position after each, and a new consumer of the same
// name resumes after it.
func TestConsumerResumesFromCheckpoint(t *testing.T) {
	st := memstore.New()
	write(t, st, "a", 7)
	r := &recorder{}
	var sizes []int
	c := &feed.Consumer{Name: "mailer", Feed: st, Checkpoints: st, Batch: 3,
		Handle: func(ctx context.Context, b []store.FeedEvent) error {
			sizes = append(sizes, len(b))
			return r.handle(ctx, b)
		}}
	drain(t, c)
	sameIDs(t, r.seen(), ids("a", 0, 7), "first run")
	if fmt.Sprint(sizes) != "[3 3 1]" {
		t.Errorf("batches of %v; want [3 3 1]", sizes)
	}
	saved, err := st.Checkpoint(context.Background(), "mailer")
	if err != nil || saved != c.Position() {
		t.Fatalf("saved checkpoint %v, %v; the consumer stands at %v", saved, err, c.Position())
	}

	write(t, st, "b", 2)
	r2 := &recorder{}
	c2 := &feed.Consumer{Name: "mailer", Feed: st, Checkpoints: st, Handle: r2.handle}
	drain(t, c2)
	sameIDs(t, r2.seen(), ids("b", 0, 2), "a restarted consumer")

	// Another name has its own checkpoint, and starts at Start.
	r3 := &recorder{}
	start := saved
	c3 := &feed.Consumer{Name: "ledger", Feed: st, Checkpoints: st, Handle: r3.handle, Start: start}
	drain(t, c3)
	sameIDs(t, r3.seen(), ids("b", 0, 2), "a new consumer starting after the first run")
}

// A batch the handler fails is handed again, and the checkpoint stays
// until the handler succeeds; a checkpoint that fails to save hands the
// batch again after a restart: delivery is at least once.
func TestConsumerAtLeastOnce(t *testing.T) {
	st := memstore.New()
	write(t, st, "a", 4)
	failures := 1
	r := &recorder{fail: func(b []store.FeedEvent) error {
		if failures > 0 {
			failures--
			return errors.New("smtp down")
		}
		return nil
	}}
	c := &feed.Consumer{Name: "mailer", Feed: st, Checkpoints: st, Handle: r.handle, Batch: 2}
	_, _, err := c.Poll(context.Background())
	var he *feed.HandlerError
	if !errors.As(err, &he) || he.Events != 2 || !he.After.IsZero() {
		t.Fatalf("Poll with a failing handler = %v; want a *HandlerError for 2 events after the start", err)
	}
	if _, err := st.Checkpoint(context.Background(), "mailer"); !errors.Is(err, errcode.ErrUnknownConsumer) {
		t.Fatalf("a failed batch saved a checkpoint: %v", err)
	}
	drain(t, c)
	sameIDs(t, r.seen(), ids("a", 0, 4), "after the failure")

	// The handler's work is done but the save is lost: the batch comes
	// again to the next consumer of that name.
	write(t, st, "b", 2)
	lossy := &lossyCheckpoints{Checkpointer: st}
	r2 := &recorder{}
	c2 := &feed.Consumer{Name: "mailer", Feed: st, Checkpoints: lossy, Handle: r2.handle}
	if _, _, err := c2.Poll(context.Background()); err == nil {
		t.Fatal("a lost save must fail the poll")
	}
	r3 := &recorder{}
	drain(t, &feed.Consumer{Name: "mailer", Feed: st, Checkpoints: st, Handle: r3.handle})
	sameIDs(t, r2.seen(), ids("b", 0, 2), "before the lost save")
	sameIDs(t, r3.seen(), ids("b", 0, 2), "after the lost save")
}

type lossyCheckpoints struct{ store.Checkpointer }

func (l *lossyCheckpoints) SaveCheckpoint(context.Context, string, store.Position) error {
	return errcode.New(errcode.Unavailable, "", "lost")
}

// Run delivers events written while it runs, tells OnError of a failing
// handler and tries again, and stops with the context's error when it is
// cancelled, waiting or not.
func TestConsumerRun(t *testing.T) {
	st := memstore.New()
	var errs atomic.Int32
	fail := atomic.Bool{}
	fail.Store(true)
	r := &recorder{fail: func([]store.FeedEvent) error {
		if fail.Swap(false) {
			return errors.New("first try fails")
		}
		return nil
	}}
	c := &feed.Consumer{Name: "run", Feed: st, Checkpoints: st, Handle: r.handle,
		MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, OnError: func(error) { errs.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	write(t, st, "a", 5)
	deadline := time.Now().Add(10 * time.Second)
	for len(r.seen()) < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v; want context.Canceled", err)
	}
	sameIDs(t, r.seen(), ids("a", 0, 5), "Run")
	if errs.Load() != 1 {
		t.Errorf("OnError was told %d errors; want 1", errs.Load())
	}
}

// Waiting backs off while the feed is empty, and Wake cuts a wait short.
func TestConsumerWaits(t *testing.T) {
	st := memstore.New()
	reads := &countingReader{Reader: st}
	c := &feed.Consumer{Name: "idle", Feed: reads, Checkpoints: st, Handle: (&recorder{}).handle,
		MinWait: 10 * time.Millisecond, MaxWait: 80 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v", err)
	}
	// Without backing off, 600ms at 10ms apart would be about 60 reads;
	// doubling to 80ms makes at most 4 + 600/80.
	if n := reads.n.Load(); n > 12 || n < 2 {
		t.Errorf("%d reads of an empty feed in 600ms with waits from 10ms to 80ms; want 2 to 12", n)
	}

	wake := make(chan struct{})
	r := &recorder{}
	c2 := &feed.Consumer{Name: "woken", Feed: st, Checkpoints: st, Handle: r.handle, MinWait: time.Hour, MaxWait: time.Hour, Wake: wake}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c2.Run(ctx2) }()
	write(t, st, "w", 1)
	wake <- struct{}{} // the first read may have found nothing: it waits an hour unless woken
	deadline := time.Now().Add(10 * time.Second)
	for len(r.seen()) < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel2()
	<-done
	sameIDs(t, r.seen(), ids("w", 0, 1), "a woken consumer")
}

type countingReader struct {
	feed.Reader
	n atomic.Int32
}

func (r *countingReader) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	r.n.Add(1)
	return r.Reader.EventsAfter(ctx, after, limit)
}

// A consumer that cannot run is refused at once: missing parts, a bad
// name, a start past the feed's end. A handler's error of the same codes
// is tried again, not taken for the consumer's.
func TestConsumerRefusals(t *testing.T) {
	st := memstore.New()
	h := (&recorder{}).handle
	for _, tc := range []struct {
		name string
		c    feed.Consumer
		code errcode.Code
	}{
		{"no feed", feed.Consumer{Name: "x", Checkpoints: st, Handle: h}, errcode.InvalidConfig},
		{"no checkpoints", feed.Consumer{Name: "x", Feed: st, Handle: h}, errcode.InvalidConfig},
		{"no handler", feed.Consumer{Name: "x", Feed: st, Checkpoints: st}, errcode.InvalidConfig},
		{"negative batch", feed.Consumer{Name: "x", Feed: st, Checkpoints: st, Handle: h, Batch: -1}, errcode.InvalidConfig},
		{"empty name", feed.Consumer{Feed: st, Checkpoints: st, Handle: h}, errcode.InvalidArgument},
		{"name with a newline", feed.Consumer{Name: "a\nb", Feed: st, Checkpoints: st, Handle: h}, errcode.InvalidArgument},
		{"start from the future", feed.Consumer{Name: "x", Feed: st, Checkpoints: st, Handle: h, Start: store.MakePosition(0, 5)}, errcode.FuturePosition},
		{"start of another store", feed.Consumer{Name: "x", Feed: st, Checkpoints: st, Handle: h, Start: store.MakePosition(9, 5)}, errcode.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tc.c.Run(ctx); !errors.Is(err, &errcode.Error{Code: tc.code}) {
				t.Errorf("Run = %v; want code %d", err, tc.code)
			}
		})
	}

	write(t, st, "a", 1)
	var tries atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	c := &feed.Consumer{Name: "picky", Feed: st, Checkpoints: st, MinWait: time.Millisecond, MaxWait: time.Millisecond,
		Handle: func(context.Context, []store.FeedEvent) error {
			if tries.Add(1) == 3 {
				cancel()
			}
			return errcode.New(errcode.InvalidArgument, "Code", "the handler's own refusal")
		}}
	if err := c.Run(ctx); !errors.Is(err, context.Canceled) || tries.Load() < 3 {
		t.Errorf("Run with a handler refusing = %v after %d tries; want it tried until cancelled", err, tries.Load())
	}
}
