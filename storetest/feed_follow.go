package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/store"
)

// testFeedFollow: writers commit concurrently, in whatever order their
// commits land, while readers follow the feed in reads of varied sizes.
// Every reader sees every event exactly once, in position order, none
// missed: what it read equals one read of the whole feed afterwards,
// which holds each stored event once and one per successful operation.
// A store whose feed skips an event that committed after a reader passed
// its place fails here.
func testFeedFollow(t *testing.T, e *env) {
	writers := max(2, e.sizes.Goroutines/2)
	readers := 4
	ops := 8
	rounds := max(1, e.sizes.RaceRounds/4)
	e.addCustomers(raceCustomers(writers)...)
	for round := range rounds {
		_, start := e.feed(store.Position{})
		var ss [3]string
		for i := range ss {
			ss[i] = e.gen(fmt.Sprintf("follow-%d-%d", round, i)).ID
		}
		_, start = e.feed(start) // past the series' own events
		var settled atomic.Bool
		var wrote atomic.Int64
		seen := make([][]store.FeedEvent, readers)
		var wg sync.WaitGroup
		for r := range readers {
			wg.Go(func() { seen[r] = e.followFeed(start, &settled, uint64(round*readers+r)) })
		}
		run(writers, func(w int) struct{} {
			rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			for k := range ops {
				n, err := e.followWrite(ss[rng.IntN(len(ss))], fmt.Sprintf("r%d", w), fmt.Sprintf("f%d-%d-%d", round, w, k))
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
				}
				wrote.Add(n)
				if rng.IntN(3) == 0 {
					time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
				}
			}
			return struct{}{}
		})
		e.settle()
		settled.Store(true)
		wg.Wait()
		whole, _ := e.feed(start)
		if int64(len(whole)) != wrote.Load() {
			t.Fatalf("round %d: the feed holds %d events after the writers' start; they wrote %d", round, len(whole), wrote.Load())
		}
		wantIDs := feedIDs(whole)
		stored := eventIDs(e.allEvents())
		all, _ := e.feed(store.Position{})
		slices.Sort(stored)
		ids := feedIDs(all)
		slices.Sort(ids)
		if !slices.Equal(ids, stored) {
			t.Fatalf("round %d: the feed holds %d events, the store %d: every stored event is on the feed once", round, len(ids), len(stored))
		}
		for r, got := range seen {
			checkFollowed(t, round, r, feedIDs(got), wantIDs)
		}
		if t.Failed() {
			return
		}
	}
}

// checkFollowed fails the test unless a reader that followed the feed
// read exactly the events of the whole feed, in its order, saying what it
// missed or saw twice.
func checkFollowed(t *testing.T, round, r int, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var missed, twice []string
	for _, id := range want {
		if count[id] == 0 {
			missed = append(missed, id)
		}
	}
	for id, n := range count {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	t.Errorf("round %d: reader %d read %d events while the writers ran; the feed holds %d: missed %d %v, read twice %v (a reader that resumes from the last position it read must see every event once, in position order)",
		round, r, len(got), len(want), len(missed), missed[:min(5, len(missed))], twice)
}

// followFeed reads the feed from start, in reads of varied sizes, until
// settled is set (the feed holds every event written) and a read after it
// finds nothing more, and returns what it read. It checks that positions
// increase.
func (e *env) followFeed(start store.Position, settled *atomic.Bool, draws uint64) []store.FeedEvent {
	rng := rand.New(rand.NewPCG(draws, 7))
	var out []store.FeedEvent
	pos := start
	for {
		finished := settled.Load()
		got, next, err := e.st.EventsAfter(e.ctx, pos, []int{1, 2, 5, 50}[rng.IntN(4)])
		if err != nil {
			e.t.Errorf("reading the feed after %s: %v", pos, err)
			return out
		}
		for _, fe := range got {
			if fe.Position.Compare(pos) <= 0 {
				e.t.Errorf("the feed after %s returned position %s", pos, fe.Position)
				return out
			}
			pos = fe.Position
		}
		if next != pos {
			e.t.Errorf("a read resumes from %s; its last event is at %s", next, pos)
			return out
		}
		out = append(out, got...)
		if len(got) == 0 {
			if finished {
				return out
			}
			time.Sleep(time.Duration(50+rng.IntN(200)) * time.Microsecond)
		}
	}
}

// followWrite issues a coupon of the series to the customer and redeems
// it, and returns how many events that wrote (one per operation that
// succeeded).
func (e *env) followWrite(seriesID, customer, key string) (int64, error) {
	r, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: seriesID, Customer: couponkit.ByID(customer)})
	if err != nil {
		return 0, err
	}
	if _, err := e.e.Redeem(e.ctx, redeemReq(r.Coupon.Code, customer, key, "100")); err != nil {
		return 1, err
	}
	return 2, nil
}
