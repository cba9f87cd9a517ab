package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// The feed tier is only worth running if it fails on a broken feed. Each
// mutant below is memstore with a feed broken in one way; the tier (the
// subtests named, in a child process) must fail against it.

const feedMutantEnv = "STORETEST_FEED_MUTANT"

// feedMutant is a broken feed, the subtests of RunFeed to run against it
// (a -test.run pattern below TestFeedMutantSuite), and a subtest path
// that must fail.
type feedMutant struct{ name, run, want string }

var feedMutants = []feedMutant{
	// The classic hole: events numbered by a sequence drawn before the
	// commit, read in number order with no fence.
	{"feed skips late commits", "^Feed$/^Follow$", "Feed/Follow"},
	{"feed repeats the last event", "^Feed$/^(Pages|Resume|Follow)$", "Feed/Pages"},
	{"feed ignores notices", "^Feed$/^(Notices|Threshold)$", "Feed/Notices"},
	{"feed accepts future positions", "^Feed$/^BadInput$", "Feed/BadInput"},
}

// TestFeedMutants runs the feed tier against each mutant in a child
// process and fails when the tier passes.
func TestFeedMutants(t *testing.T) {
	if os.Getenv(feedMutantEnv) != "" {
		t.Skip("inside a mutant run")
	}
	if testing.Short() {
		t.Skip("runs the feed tier against broken stores in child processes")
	}
	for _, m := range feedMutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFeedMutantSuite$/"+m.run, "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), feedMutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil:
				t.Fatalf("the feed tier passed against a store whose %s: it cannot detect that", m.name)
			case !errors.As(err, &exit):
				t.Fatalf("running the tier: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestFeedMutantSuite/"+m.want+" ") {
				t.Errorf("against a store whose %s, subtest %s must fail; output:\n%s", m.name, m.want, out)
			}
		})
	}
}

// TestFeedMutantSuite is the child: it runs the feed tier against the
// mutant named by the environment.
func TestFeedMutantSuite(t *testing.T) {
	name := os.Getenv(feedMutantEnv)
	if name == "" {
		t.Skip("run by TestFeedMutants")
	}
	if !slices.ContainsFunc(feedMutants, func(m feedMutant) bool { return m.name == name }) {
		t.Fatalf("unknown mutant %q", name)
	}
	storetest.RunFeed(t, func(*testing.T) store.Store {
		if name == "feed skips late commits" {
			return newLateFeed()
		}
		return &brokenFeed{Store: memstore.New(), how: name}
	}, storetest.Sizes{Goroutines: 32, RaceRounds: 8})
}

// brokenFeed is memstore with its feed broken as how says.
type brokenFeed struct {
	*memstore.Store
	how string
}

func (b *brokenFeed) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	switch b.how {
	case "feed repeats the last event":
		if hi, lo := after.Parts(); lo > 0 {
			after = store.MakePosition(hi, lo-1)
		}
	case "feed accepts future positions":
		got, next, err := b.Store.EventsAfter(ctx, after, limit)
		var fe *store.FuturePositionError
		if errors.As(err, &fe) {
			return nil, after, nil
		}
		return got, next, err
	}
	return b.Store.EventsAfter(ctx, after, limit)
}

func (b *brokenFeed) Apply(ctx context.Context, c *store.Change) error {
	if b.how == "feed ignores notices" {
		cc := *c
		cc.Notices = nil
		err := b.Store.Apply(ctx, &cc)
		copy(c.Bumps, cc.Bumps)
		return err
	}
	return b.Store.Apply(ctx, c)
}

// lateFeed is memstore with a feed numbered the way a plain database
// sequence numbers rows: each Apply draws numbers for its events first,
// then commits, some of them late; the feed returns the committed events
// numbered after a position, in number order. A reader that passed a
// number whose change had not committed yet never sees that change.
type lateFeed struct {
	*memstore.Store
	mu   sync.Mutex
	next uint64
	log  map[uint64]coupon.Event // committed events by number
}

func newLateFeed() *lateFeed {
	return &lateFeed{Store: memstore.New(), log: map[uint64]coupon.Event{}}
}

func (s *lateFeed) Apply(ctx context.Context, c *store.Change) error {
	s.mu.Lock()
	first := s.next
	s.next += uint64(len(c.Events) + len(c.Notices))
	s.mu.Unlock()
	if first%4 == 1 {
		time.Sleep(2 * time.Millisecond) // a transaction that commits late
	}
	if err := s.Store.Apply(ctx, c); err != nil {
		return err // its numbers are never used, as a rolled-back sequence's
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := first
	for _, ev := range c.Events {
		n++
		s.log[n] = ev
	}
	for i := range c.Notices {
		nt := &c.Notices[i]
		var after, delta int64
		for _, b := range c.Bumps {
			if b.Key == nt.Key {
				after, delta = b.After.N, delta+b.Delta
			}
		}
		n++
		if nt.Crossed(after-delta, after) {
			s.log[n] = nt.Event
		}
	}
	return nil
}

func (s *lateFeed) EventsAfter(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error) {
	limit, err := store.FeedLimit(limit)
	if err != nil {
		return nil, after, err
	}
	_, k := after.Parts()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.FeedEvent
	for n := k + 1; n <= s.next && len(out) < limit; n++ {
		if ev, ok := s.log[n]; ok {
			out = append(out, store.FeedEvent{Position: store.MakePosition(0, n), Event: ev})
		}
	}
	if len(out) == 0 {
		return nil, after, nil
	}
	return out, out[len(out)-1].Position, nil
}
