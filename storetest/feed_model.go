package storetest

import (
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/store"
	"pgregory.net/rapid"
)

// modelFeed is what the model test has read of the feed so far: it follows
// the feed from step to step, as a consumer would, from where it stopped.
type modelFeed struct {
	pos      store.Position
	byCoupon map[string][]evRec // the events read, by coupon
	notes    int                // IssuanceThreshold events read
	n        int                // events read
}

// checkFeed reads the events the feed gained since the last check, in
// reads of a few events, and compares everything read so far with the
// model: each coupon's history as the model predicts it, in order, one
// threshold notification per time the model says OnRemaining is due, and
// nothing else. A feed that loses, repeats or reorders an event, or holds
// one the store's histories do not, fails here.
func (mc *machine) checkFeed(t *rapid.T) {
	f := &mc.feed
	if f.byCoupon == nil {
		f.byCoupon = map[string][]evRec{}
	}
	m := mc.m
	want := m.notified
	for _, c := range m.sortedCoupons(func(*coupon.Coupon) bool { return true }) {
		want += len(m.events[c.ID])
	}
	// A store may hold the step's events back a while (see feedSettle).
	for deadline := time.Now().Add(feedSettle); ; time.Sleep(5 * time.Millisecond) {
		mc.readFeed(t)
		if f.n >= want || time.Now().After(deadline) {
			break
		}
	}
	for _, c := range m.sortedCoupons(func(*coupon.Coupon) bool { return true }) {
		matchAll(t, "the feed's events of coupon "+c.Code, f.byCoupon[c.ID], m.events[c.ID], evRecsEqual)
	}
	if f.notes != m.notified {
		t.Fatalf("the feed holds %d issuance threshold events; the model says %d", f.notes, m.notified)
	}
	if f.n != want {
		t.Fatalf("the feed holds %d events; the model predicts %d", f.n, want)
	}
}

// readFeed reads the feed after where the model test stopped, in reads of
// a few events, to its end now, checking that positions increase.
func (mc *machine) readFeed(t *rapid.T) {
	f, e := &mc.feed, mc.e
	for {
		got, next, err := e.st.EventsAfter(e.ctx, f.pos, 3)
		if err != nil {
			t.Fatalf("EventsAfter(%s): %v", f.pos, err)
		}
		for _, fe := range got {
			if fe.Position.Compare(f.pos) <= 0 {
				t.Fatalf("the feed after %s returned position %s: positions must increase", f.pos, fe.Position)
			}
			f.pos = fe.Position
			ev := &fe.Event
			f.n++
			switch {
			case ev.Kind == coupon.EventIssuanceThreshold:
				f.notes++
			case ev.CouponID != "":
				f.byCoupon[ev.CouponID] = append(f.byCoupon[ev.CouponID], projectEvent(ev))
			}
		}
		if next != f.pos {
			t.Fatalf("a read of the feed resumes from %s; its last event is at %s", next, f.pos)
		}
		if len(got) < 3 {
			break
		}
	}
}
