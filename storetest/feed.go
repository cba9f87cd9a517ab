package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// RunFeed runs the feed tier, as the subtest Feed: the event feed
// (store.Store.EventsAfter) through the store and the engine, the notices
// of a change (store.Change.Notices), the checkpoints of a
// store.Checkpointer, and the notifications the engine writes on the feed.
// The subtests: Empty, Order, Pages, Resume, BadInput (a negative limit, a
// position past the last event), Atomic (a failed change adds nothing),
// Notices, Threshold, ThresholdBatch, Reissue, Reminders (the engine's
// notifications), Checkpoints (skipped when the store keeps none); and the
// races, first and one at a time: Follow (writers commit concurrently
// while readers follow the feed in reads of varied sizes, and every reader
// sees every event exactly once, in position order, none missed),
// ThresholdRace and RemindersRace (one notification however many
// goroutines race). The model test of RunModel follows the feed too.
//
// To pass, a store gives every event a position in one total order that
// a reader can resume from without missing an event, whatever order
// concurrent writers commit in: a position drawn before the commit (a
// plain sequence in a database with concurrent writers) is not enough
// unless the read holds back the events of transactions that may still
// commit behind it. A feed may lag; the tier waits for it (at most a
// minute) before it takes an event as missing.
func RunFeed(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Feed", func(t *testing.T) {
		for _, r := range feedRaces { // parallel subtests wait for this function to return
			t.Run(r.name, func(t *testing.T) { r.fn(t, h.env(t)) })
		}
		h.each(t, feedTests)
	})
}

var feedTests = []test{
	{"Empty", testFeedEmpty},
	{"Order", testFeedOrder},
	{"Pages", testFeedPages},
	{"Resume", testFeedResume},
	{"BadInput", testFeedBadInput},
	{"Atomic", testFeedAtomic},
	{"Notices", testFeedNotices},
	{"Threshold", testFeedThreshold},
	{"ThresholdBatch", testFeedThresholdBatch},
	{"Reissue", testFeedReissue},
	{"Reminders", testFeedReminders},
	{"Checkpoints", testFeedCheckpoints},
}

var feedRaces = []test{
	{"Follow", testFeedFollow},
	{"ThresholdRace", testFeedThresholdRace},
	{"RemindersRace", testFeedRemindersRace},
}

// feedReader is EventsAfter of a store or an engine.
type feedReader func(ctx context.Context, after store.Position, limit int) ([]store.FeedEvent, store.Position, error)

// readFeed reads the feed after from to its end now, in reads of limit,
// and checks what every read must be: positions after the one it asked
// for and increasing, the position to resume from that of its last event
// (or the one asked for when none), and a read shorter than limit only at
// the end. It returns the events and the position after the last. Call it
// when nothing is written and the feed holds every event (settle).
func readFeed(t testing.TB, read feedReader, from store.Position, limit int) ([]store.FeedEvent, store.Position) {
	t.Helper()
	var out []store.FeedEvent
	pos := from
	want := limit
	if want == 0 {
		want = store.DefaultFeedLimit
	}
	for {
		got, next, err := read(context.Background(), pos, limit)
		if err != nil {
			t.Fatalf("EventsAfter(%s, %d): %v", pos, limit, err)
		}
		last := pos
		for _, fe := range got {
			if fe.Position.Compare(last) <= 0 {
				t.Fatalf("EventsAfter(%s): position %s of event %s is not after %s: the feed must be in increasing position order after the position asked for",
					pos, fe.Position, fe.Event.ID, last)
			}
			last = fe.Position
		}
		if next != last {
			t.Fatalf("EventsAfter(%s) returned %d events and resumes from %s; want the last event's position %s (or the one asked for)", pos, len(got), next, last)
		}
		if len(got) > want {
			t.Fatalf("EventsAfter(%s, %d) returned %d events", pos, limit, len(got))
		}
		out = append(out, got...)
		pos = next
		if len(got) < want {
			if more, _, err := read(context.Background(), pos, limit); err != nil || len(more) > 0 {
				t.Fatalf("EventsAfter(%s, %d) returned %d events, fewer than its limit, yet %d more followed (%v): a short read means the end", pos, limit, len(got), len(more), err)
			}
			return out, pos
		}
	}
}

func feedIDs(fes []store.FeedEvent) []string {
	out := make([]string, len(fes))
	for i := range fes {
		out[i] = fes[i].Event.ID
	}
	return out
}

func eventIDs(evs []coupon.Event) []string {
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

// feedSettle bounds how long the tests wait for the feed to hold every
// stored event. A store may hold back the events of a transaction that
// committed while an older one was still open (on PostgreSQL, an open
// transaction anywhere on the server, another test's too): the feed lags,
// and the tests wait rather than take the lag for a loss.
const feedSettle = time.Minute

// settle waits until the feed holds as many events as the store keeps,
// at most feedSettle, and fails the test if it never does.
func (e *env) settle() {
	e.t.Helper()
	want := len(e.allEvents())
	deadline := time.Now().Add(feedSettle)
	for n, pos := 0, (store.Position{}); ; {
		got, next, err := e.st.EventsAfter(e.ctx, pos, 0)
		mustOK(e.t, err, "EventsAfter(%s)", pos)
		n, pos = n+len(got), next
		switch {
		case n >= want:
			return
		case len(got) > 0:
			continue
		case time.Now().After(deadline):
			e.t.Fatalf("after %s the feed holds %d events; the store keeps %d", feedSettle, n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// feed reads the feed after from to its end, once it holds every stored
// event.
func (e *env) feed(after store.Position) ([]store.FeedEvent, store.Position) {
	e.t.Helper()
	e.settle()
	return readFeed(e.t, e.st.EventsAfter, after, 0)
}

func (e *env) allEvents() []coupon.Event {
	e.t.Helper()
	evs, err := e.st.Events(e.ctx, store.EventQuery{})
	mustOK(e.t, err, "Events")
	return evs
}

// workload runs one of most kinds of operation, so that the feed holds
// events of most kinds, and returns the coupons issued.
func (e *env) workload(name string) []coupon.Coupon {
	e.t.Helper()
	s := e.gen(name, func(s *series.Series) {
		s.Issuance.MaxTotal = 6
		s.Issuance.NotifyRemaining = 2
		s.Transferable = true
	})
	cs := []coupon.Coupon{e.issue(s.ID, alice), e.issue(s.ID, bob), e.issue(s.ID, carol), e.issue(s.ID, dave)}
	r := e.redeem(cs[0].Code, alice, name+"-k1")
	_, err := e.e.Reverse(e.ctx, couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: r.Redemption.ID}, Actor: "till"})
	mustOK(e.t, err, "Reverse")
	_, err = e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(cs[1].Code, bob, name+"-k2", "100"), TTL: time.Minute})
	mustOK(e.t, err, "Hold")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: cs[2].Code, From: couponkit.ByID(carol), To: couponkit.ByID(erin)})
	mustOK(e.t, err, "Transfer")
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{SeriesID: s.ID, Codes: []string{cs[3].Code}, Actor: "op"})
	mustOK(e.t, err, "Revoke")
	_, err = e.e.AddAudience(e.ctx, couponkit.AudienceRequest{SeriesID: s.ID, Customers: []couponkit.CustomerRef{couponkit.ByID(bob)}})
	mustOK(e.t, err, "AddAudience")
	return cs
}

// testFeedEmpty: an empty store's feed has nothing after its start.
func testFeedEmpty(t *testing.T, e *env) {
	got, next, err := e.st.EventsAfter(e.ctx, store.Position{}, 0)
	if wantOK(t, err, "EventsAfter on an empty store") && (len(got) != 0 || !next.IsZero()) {
		t.Errorf("an empty store's feed returned %d events, resuming from %s; want none, from the start", len(got), next)
	}
}

// testFeedOrder: the feed holds every event the store keeps, each once,
// in the order they were applied when one writer applies them, through
// the store and the engine alike.
func testFeedOrder(t *testing.T, e *env) {
	e.workload("order")
	all := e.allEvents()
	got, _ := e.feed(store.Position{})
	same(t, feedIDs(got), eventIDs(all), "the feed lists every stored event once, in the order applied")
	for i := range min(len(got), len(all)) {
		same(t, got[i].Event, all[i], "the feed's event %d is the stored event", i)
	}
	byEngine, _ := readFeed(t, e.e.EventsAfter, store.Position{}, 0)
	same(t, byEngine, got, "the engine reads the store's feed")
	kinds := map[coupon.EventKind]bool{}
	for _, fe := range got {
		kinds[fe.Event.Kind] = true
	}
	for _, k := range []coupon.EventKind{coupon.EventIssued, coupon.EventRedeemed, coupon.EventReversed, coupon.EventHeld,
		coupon.EventTransferredOut, coupon.EventTransferReceived, coupon.EventRevoked, coupon.EventAudienceAdded} {
		if !kinds[k] {
			t.Errorf("the feed holds no %s event", k)
		}
	}
}

// testFeedPages: reading in small pages gives the events of one read,
// each page full but the last.
func testFeedPages(t *testing.T, e *env) {
	e.workload("pages")
	whole, end := e.feed(store.Position{})
	for _, limit := range []int{1, 2, 3, 7} {
		paged, pend := readFeed(t, e.st.EventsAfter, store.Position{}, limit)
		same(t, feedIDs(paged), feedIDs(whole), "pages of %d", limit)
		if pend != end {
			t.Errorf("pages of %d end at %s; one read ends at %s", limit, pend, end)
		}
	}
	got, next, err := e.st.EventsAfter(e.ctx, end, 1)
	if wantOK(t, err, "EventsAfter at the end") && (len(got) != 0 || next != end) {
		t.Errorf("after its last event the feed returned %d events, resuming from %s; want none, from %s", len(got), next, end)
	}
}

// testFeedResume: a reader that resumes from the last position it
// handled gets exactly the events after it, those written since too.
func testFeedResume(t *testing.T, e *env) {
	e.workload("resume")
	first, _ := e.feed(store.Position{})
	half := len(first) / 2
	mark := first[half-1].Position
	e.workload("resume-more")
	all, _ := e.feed(store.Position{})
	rest, _ := e.feed(mark)
	same(t, feedIDs(rest), feedIDs(all[half:]), "resuming after event %d of %d", half, len(all))
}

// testFeedBadInput: a negative limit and a position past the last event
// are refused with typed errors, by the store and the engine, and the
// refusal names the store's last position.
func testFeedBadInput(t *testing.T, e *env) {
	e.workload("bad")
	_, head := e.feed(store.Position{})
	hi, lo := head.Parts()
	for name, read := range map[string]feedReader{"store": e.st.EventsAfter, "engine": e.e.EventsAfter} {
		_, _, err := read(e.ctx, store.Position{}, -1)
		wantField(t, err, errcode.InvalidArgument, "Limit", "the %s's feed refuses a negative limit", name)
		for _, p := range []store.Position{store.MakePosition(hi, lo+1), store.MakePosition(hi, lo+1000)} {
			got, next, err := read(e.ctx, p, 10)
			var fe *store.FuturePositionError
			switch {
			case !errors.As(err, &fe) || !errors.Is(err, errcode.ErrFuturePosition):
				t.Errorf("the %s's feed after %s, past its last event %s: got %d events and %v; want a *store.FuturePositionError", name, p, head, len(got), err)
			case fe.Position != p || fe.Head != head:
				t.Errorf("the refusal of %s names %s and the head %s; want %s and %s", p, fe.Position, fe.Head, p, head)
			case next != p:
				t.Errorf("a refused read resumes from %s; want the position asked for, %s", next, p)
			}
		}
	}
}

// testFeedAtomic: a change that fails adds nothing to the feed, its
// notices neither; one that succeeds adds its events together.
func testFeedAtomic(t *testing.T, e *env) {
	s := e.gen("atomic") // single use
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "k1")
	_, mark := e.feed(store.Position{})
	_, err := e.tryRedeem(c.Code, alice, "k2")
	if err == nil {
		t.Fatal("setup: a second use of a single-use coupon succeeded")
	}
	key := store.CounterKey{Counter: limits.CodeUses, Series: s.ID, Code: c.Canonical}
	ev := coupon.Event{ID: "atomic-ev", Kind: coupon.EventRedeemed, CouponID: c.ID, SeriesID: s.ID, Code: c.Code, At: t0}
	note := coupon.ThresholdEvent(s.ID, 0, t0)
	note.ID = "atomic-notice"
	err = e.st.Apply(e.ctx, &store.Change{Events: []coupon.Event{ev},
		Bumps:   []store.Bump{{Key: key, Delta: 1, At: t0, Guard: limits.Guard{Counter: limits.CodeUses, Limit: 1}}},
		Notices: []store.Notice{{Key: key, Reach: 2, Event: note}}})
	if !errors.Is(err, errcode.ErrGuardFailed) {
		t.Fatalf("setup: Apply past the guard = %v", err)
	}
	err = e.st.Apply(e.ctx, &store.Change{Events: []coupon.Event{ev},
		Coupons: []store.CouponUpdate{{Coupon: e.stored(c.ID), ExpectVersion: 99}}})
	if !errors.Is(err, errcode.ErrConflict) {
		t.Fatalf("setup: Apply with a stale version = %v", err)
	}
	if got, _ := e.feed(mark); len(got) != 0 {
		t.Errorf("changes that failed added %v to the feed", feedIDs(got))
	}
}
