package couponkit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
)

// overlapProbe is a store whose write of a change issuing to customers of
// batch b ("c<b>-<i>") waits, up to a second, until the counters of a
// customer of batch b+1 are read, and counts the writes that saw it.
type overlapProbe struct {
	store.Store
	ahead      bool // what ReadsAhead reports
	wait       time.Duration
	batches    int
	mu         sync.Mutex
	read       map[int]chan struct{} // closed once a customer of the batch is read
	overlapped atomic.Int32
}

func (s *overlapProbe) seen(b int) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.read[b] == nil {
		s.read[b] = make(chan struct{})
	}
	return s.read[b]
}

func batchOf(customer string) int {
	var b, i int
	if _, err := fmt.Sscanf(customer, "c%d-%d", &b, &i); err != nil {
		return -1
	}
	return b
}

func (s *overlapProbe) ReadsAhead() bool { return s.ahead }

func (s *overlapProbe) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	for _, k := range keys {
		if b := batchOf(k.Customer); b >= 0 {
			ch := s.seen(b)
			s.mu.Lock()
			select {
			case <-ch:
			default:
				close(ch)
			}
			s.mu.Unlock()
			break
		}
	}
	return s.Store.Counters(ctx, keys, out)
}

func (s *overlapProbe) Apply(ctx context.Context, ch *store.Change) error {
	if len(ch.Bumps) > 1 {
		if b := batchOf(ch.Bumps[1].Key.Customer); b >= 0 && b+1 < s.batches {
			select {
			case <-s.seen(b + 1):
				s.overlapped.Add(1)
			case <-time.After(s.wait):
			}
		}
	}
	return s.Store.Apply(ctx, ch)
}

// batchesOf yields n batches of size requests for distinct customers.
func batchesOf(seriesID string, n, size int) func(func([]couponkit.IssueRequest) bool) {
	return func(yield func([]couponkit.IssueRequest) bool) {
		for b := range n {
			reqs := make([]couponkit.IssueRequest, size)
			for i := range reqs {
				reqs[i] = couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(fmt.Sprintf("c%d-%d", b, i))}
			}
			if !yield(reqs) {
				return
			}
		}
	}
}

func newBatchEngine(t *testing.T, st store.Store) *couponkit.Engine {
	t.Helper()
	e, err := couponkit.New(couponkit.Config{
		Store:   st,
		Now:     func() time.Time { return time.Date(2026, time.November, 12, 10, 0, 0, 0, time.UTC) },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("an example key, not a secret"), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// On a store that reads ahead (store.ReadAhead) each batch but the first
// is read while the batch before it is written; on one that does not,
// none is.
func TestIssueBatchesReadsTheNextBatchDuringAWrite(t *testing.T) {
	for _, ahead := range []bool{true, false} {
		ctx := context.Background()
		const batches = 4
		st := &overlapProbe{Store: memstore.New(), ahead: ahead, wait: time.Second, batches: batches, read: map[int]chan struct{}{}}
		if !ahead {
			st.wait = 50 * time.Millisecond
		}
		e := newBatchEngine(t, st)
		s := must(e.CreateSeries(ctx, tenOff()))
		var issued int
		err := e.IssueBatches(ctx, batchesOf(s.ID, batches, 3), func(outs []couponkit.IssueOutcome, err error) error {
			for _, o := range outs {
				if o.Err == nil {
					issued++
				}
			}
			return err
		})
		if err != nil || issued != batches*3 {
			t.Fatalf("IssueBatches: %v, %d issued", err, issued)
		}
		want := int32(0)
		if ahead {
			want = batches - 1
		}
		if n := st.overlapped.Load(); n != want {
			t.Errorf("reads ahead %v: %d writes saw the next batch read meanwhile; want %d", ahead, n, want)
		}
	}
}

// done's error stops the stream: the batch after is not written, and the
// error is returned as is. A failure of a batch reaches done, with the
// outcomes before it, and is returned. Nil arguments are refused.
func TestIssueBatchesStops(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	e := newBatchEngine(t, st)
	s := must(e.CreateSeries(ctx, tenOff()))
	stop := errors.New("stop")
	calls := 0
	err := e.IssueBatches(ctx, batchesOf(s.ID, 3, 2), func(outs []couponkit.IssueOutcome, err error) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls; want stop after 1", err, calls)
	}
	c := must(e.Counters(ctx, s.ID))
	if c.Issued != 2 {
		t.Errorf("%d issued; want the first batch's 2 (the second, taken from batches already, is not written)", c.Issued)
	}

	ended, cancel := context.WithCancel(ctx)
	var got []error
	err = e.IssueBatches(ended, batchesOf(s.ID, 3, 2), func(outs []couponkit.IssueOutcome, err error) error {
		got = append(got, err)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(got) != 2 || got[0] != nil || !errors.Is(got[1], context.Canceled) {
		t.Errorf("cancelled after the first batch: returned %v, done saw %v", err, got)
	}

	for _, call := range []func() error{
		func() error {
			return e.IssueBatches(ctx, nil, func([]couponkit.IssueOutcome, error) error { return nil })
		},
		func() error { return e.IssueBatches(ctx, batchesOf(s.ID, 1, 1), nil) },
	} {
		if err := call(); !errors.Is(err, errcode.ErrInvalidArgument) {
			t.Errorf("nil argument: %v", err)
		}
	}
}

// interloper is a store that reads ahead and, just before the first
// issue it is given to write, issues one more coupon of the series' count itself, as a
// concurrent engine would, and counts the writes it refused.
type interloper struct {
	store.Store
	seriesID string
	done     bool
	refused  int
}

func (s *interloper) ReadsAhead() bool { return true }

func (s *interloper) Apply(ctx context.Context, ch *store.Change) error {
	if !s.done && len(ch.NewCoupons) > 0 {
		s.done = true
		bump := &store.Change{Bumps: []store.Bump{{Key: store.CounterKey{Counter: limits.SeriesIssued, Series: s.seriesID}, Delta: 1, At: ch.Bumps[0].At}}}
		if err := s.Store.Apply(ctx, bump); err != nil {
			return err
		}
	}
	err := s.Store.Apply(ctx, ch)
	if err != nil {
		s.refused++
	}
	return err
}

// A batch read while the one before it was written is decided from the
// counter values the store wrote for that one, not the values that one
// decided (here a concurrent issue moved the series' count in between): it
// is refused past the series' maximum as IssueBatch would refuse it,
// without a write the store refuses.
func TestIssueBatchesDecidesFromWhatTheStoreWrote(t *testing.T) {
	ctx := context.Background()
	st := &interloper{Store: memstore.New()}
	e := newBatchEngine(t, st)
	cfg := tenOff()
	cfg.Issuance.MaxTotal = 5
	s := must(e.CreateSeries(ctx, cfg))
	st.seriesID = s.ID
	batches := func(yield func([]couponkit.IssueRequest) bool) {
		for _, n := range []int{2, 3} {
			reqs := make([]couponkit.IssueRequest, n)
			for i := range reqs {
				reqs[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(fmt.Sprintf("c%d-%d", n, i))}
			}
			if !yield(reqs) {
				return
			}
		}
	}
	var got []string
	err := e.IssueBatches(ctx, batches, func(outs []couponkit.IssueOutcome, err error) error {
		for _, o := range outs {
			var r *refusal.Error
			switch {
			case o.Err == nil:
				got = append(got, "issued")
			case errors.As(o.Err, &r):
				got = append(got, string(r.Refusals[0].Rule))
			default:
				got = append(got, o.Err.Error())
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// 2 issued, 1 by the interloper, then 2 of the next 3: the series' 5.
	want := []string{"issued", "issued", "issued", "issued", string(refusal.SeriesIssues)}
	if fmt.Sprint(got) != fmt.Sprint(want) || st.refused != 0 {
		t.Errorf("outcomes %v, %d writes refused; want %v and none", got, st.refused, want)
	}
}
