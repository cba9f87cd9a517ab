package coupon

import (
	"fmt"
	"testing"
	"time"

	"github.com/couponkit/couponkit/errcode"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// world is the state of the property test: a few coupons of one or two
// series, every redemption record ever returned, and what the test has seen.
type world struct {
	now      time.Time
	coupons  []Coupon
	capacity map[string]int // per coupon id; fixed for the coupon's life
	records  []Redemption
	nextID   int

	revoked     map[string]bool // ever seen Revoked
	expired     map[string]bool // ever seen Expired by StateAt
	reversals   map[string]int  // successful Reverse calls per redemption id
	reissuedOld map[string]int  // successful Reissue calls with the coupon as old
	inChain     map[string]bool // took part in a successful Reissue

	successes map[string]int // successful transitions, over the whole run
}

var customers = []string{"alice", "bob", "carol"}

func (w *world) id(prefix string) string {
	w.nextID++
	return fmt.Sprintf("%s%d", prefix, w.nextID)
}

func (w *world) create(t *rapid.T) {
	var exp time.Time
	if rapid.Bool().Draw(t, "expires") {
		exp = w.now.Add(time.Duration(rapid.IntRange(1, 200).Draw(t, "expiryHours")) * time.Hour)
	}
	series := rapid.SampledFrom([]string{"s1", "s1", "s2"}).Draw(t, "series")
	id := w.id("c")
	c, ev, err := New(NewParams{ID: id, SeriesID: series, Code: "code-" + id, Canonical: "CODE" + id, ExpiresAt: exp}, w.now)
	if err != nil || ev.Kind != EventCreated || c.Version != 1 {
		t.Fatalf("New: %v, %+v, %+v", err, c, ev)
	}
	w.coupons = append(w.coupons, c)
	w.capacity[id] = rapid.IntRange(0, 3).Draw(t, "capacity")
}

func (w *world) pick(t *rapid.T, label string) int {
	return rapid.IntRange(0, len(w.coupons)-1).Draw(t, label)
}

// pickWhere usually picks a coupon for which ok holds, when there is one,
// so that transitions succeed often enough; otherwise any coupon.
func (w *world) pickWhere(t *rapid.T, label string, ok func(Coupon) bool) int {
	var fit []int
	for i, c := range w.coupons {
		if ok(c) {
			fit = append(fit, i)
		}
	}
	if len(fit) == 0 || rapid.IntRange(0, 3).Draw(t, label+"Any") == 0 {
		return w.pick(t, label)
	}
	return fit[rapid.IntRange(0, len(fit)-1).Draw(t, label+"Fit")]
}

// pickRecord picks a redemption record, often the latest with status want,
// and usually its own coupon.
func (w *world) pickRecord(t *rapid.T, want RedemptionStatus) (ci, ri int) {
	if len(w.records) == 0 {
		t.Skip("no redemption records")
	}
	ri = rapid.IntRange(0, len(w.records)-1).Draw(t, "record")
	if rapid.Bool().Draw(t, "preferStatus") { // usually the status the action wants
		for k := len(w.records) - 1; k >= 0; k-- {
			if w.records[k].Status == want {
				ri = k
				break
			}
		}
	}
	if rapid.IntRange(0, 4).Draw(t, "ownCoupon") > 0 {
		for i, c := range w.coupons {
			if c.ID == w.records[ri].CouponID {
				return i, ri
			}
		}
	}
	return w.pick(t, "coupon"), ri
}

func (w *world) future(t *rapid.T, label string) time.Time {
	if rapid.IntRange(0, 3).Draw(t, label+"Zero") == 0 {
		return time.Time{}
	}
	// Sometimes not after now, which must be refused.
	return w.now.Add(time.Duration(rapid.IntRange(-1, 300).Draw(t, label+"Hours")) * time.Hour)
}

// outcome checks what every transition promises, and records the new values.
// in and out are the coupons given and returned (same order), evs the events.
func (w *world) outcome(t *rapid.T, op string, idx []int, in, out []Coupon, evs []Event, err error) {
	if err != nil {
		if errcode.CodeOf(err) == 0 {
			t.Fatalf("%s: error without code: %v", op, err)
		}
		if d := cmp.Diff(in, out, decEqual); d != "" {
			t.Fatalf("%s refused (%v) but changed its input (-in +out):\n%s", op, err, d)
		}
		return
	}
	w.successes[op]++
	if len(evs) == 0 {
		t.Fatalf("%s succeeded without an event", op)
	}
	for _, ev := range evs {
		if !ev.Kind.Valid() || ev.ID != "" || !ev.At.Equal(w.now) || ev.CouponID != in[0].ID || ev.SeriesID != in[0].SeriesID {
			t.Fatalf("%s: bad event %+v", op, ev)
		}
	}
	for i := range in {
		if out[i].Version != in[i].Version+1 {
			t.Fatalf("%s: Version %d -> %d", op, in[i].Version, out[i].Version)
		}
		if in[i].State == Revoked && op != "reissue" {
			t.Fatalf("%s accepted a revoked coupon", op)
		}
		w.coupons[idx[i]] = out[i]
	}
}

// mustFail checks that a transition refused what the invariants forbid.
func mustFail(t *rapid.T, op string, c Coupon, err error, now time.Time) {
	if err != nil {
		return
	}
	if c.State == Revoked {
		t.Fatalf("%s succeeded on a revoked coupon %+v", op, c)
	}
	switch op {
	case "issue", "redeem", "hold", "confirm", "transfer":
	default:
		return // these may act on an expired coupon
	}
	if c.StateAt(now) == Expired {
		t.Fatalf("%s succeeded on an expired coupon %+v", op, c)
	}
}

func (w *world) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create": func(t *rapid.T) {
			if len(w.coupons) >= 6 {
				t.Skip("enough coupons")
			}
			w.create(t)
		},
		"advance": func(t *rapid.T) {
			w.now = w.now.Add(time.Duration(rapid.IntRange(0, 12*60).Draw(t, "minutes")) * time.Minute)
		},
		"issue": func(t *rapid.T) {
			i := w.pickWhere(t, "coupon", func(c Coupon) bool { return c.StateAt(w.now) == Available })
			c := w.coupons[i]
			out, ev, err := Issue(c, rapid.SampledFrom(customers).Draw(t, "customer"), w.now, w.future(t, "expiry"), "op")
			mustFail(t, "issue", c, err, w.now)
			w.outcome(t, "issue", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
		},
		"redeem": func(t *rapid.T) {
			i := w.pickWhere(t, "coupon", func(c Coupon) bool { return c.Usable(w.now) })
			c := w.coupons[i]
			p := RedeemParams{ID: w.id("r"), Customer: rapid.SampledFrom(customers).Draw(t, "customer"), Capacity: w.capacity[c.ID]}
			out, r, ev, err := Redeem(c, w.now, p)
			mustFail(t, "redeem", c, err, w.now)
			w.outcome(t, "redeem", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
			if err == nil {
				w.records = append(w.records, r)
			}
		},
		"hold": func(t *rapid.T) {
			i := w.pickWhere(t, "coupon", func(c Coupon) bool { return c.Usable(w.now) })
			c := w.coupons[i]
			p := RedeemParams{ID: w.id("h"), Customer: c.Holder, Capacity: w.capacity[c.ID]}
			until := w.now.Add(time.Duration(rapid.IntRange(0, 120).Draw(t, "holdMinutes")) * time.Minute)
			out, r, ev, err := PlaceHold(c, w.now, until, p)
			mustFail(t, "hold", c, err, w.now)
			w.outcome(t, "hold", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
			if err == nil {
				w.records = append(w.records, r)
			}
		},
		"confirm": func(t *rapid.T) {
			i, ri := w.pickRecord(t, StatusHeld)
			c, r := w.coupons[i], w.records[ri]
			out, rr, ev, err := ConfirmHold(c, r, w.now, w.capacity[c.ID], "till")
			mustFail(t, "confirm", c, err, w.now)
			if err != nil && !cmp.Equal(rr, r) {
				t.Fatalf("refused confirm changed the hold")
			}
			if err == nil && !r.HoldActive(w.now) {
				t.Fatalf("confirmed a lapsed hold %+v at %v", r, w.now)
			}
			w.outcome(t, "confirm", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
			w.records[ri] = rr
		},
		"release": func(t *rapid.T) {
			i, ri := w.pickRecord(t, StatusHeld)
			c, r := w.coupons[i], w.records[ri]
			out, rr, ev, err := ReleaseHold(c, r, w.now, "till", "")
			mustFail(t, "release", c, err, w.now)
			if err != nil && !cmp.Equal(rr, r) {
				t.Fatalf("refused release changed the hold")
			}
			w.outcome(t, "release", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
			w.records[ri] = rr
		},
		"reverse": func(t *rapid.T) {
			i, ri := w.pickRecord(t, StatusRedeemed)
			c, r := w.coupons[i], w.records[ri]
			out, rr, ev, err := Reverse(c, r, w.now, "ops", "refund")
			mustFail(t, "reverse", c, err, w.now)
			if r.Status == StatusReversed && r.CouponID == c.ID && errcode.CodeOf(err) != errcode.AlreadyReversed {
				t.Fatalf("reversing a reversed redemption: %v", err)
			}
			if err != nil && !cmp.Equal(rr, r) {
				t.Fatalf("refused reverse changed the redemption")
			}
			if err == nil {
				w.reversals[r.ID]++
			}
			w.outcome(t, "reverse", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
			w.records[ri] = rr
		},
		"revoke": func(t *rapid.T) {
			if rapid.IntRange(0, 3).Draw(t, "revokeNow") > 0 {
				t.Skip("revoke less often: it ends a coupon's story")
			}
			i := w.pick(t, "coupon")
			c := w.coupons[i]
			out, ev, err := Revoke(c, w.now, "ops", "fraud")
			switch {
			case c.State == Revoked && errcode.CodeOf(err) != errcode.CouponNotFound:
				t.Fatalf("revoking a revoked coupon: %v", err)
			case c.Redemptions > 0 && errcode.CodeOf(err) != errcode.Redeemed:
				t.Fatalf("revoking a coupon with an unreversed redemption: %v", err)
			}
			w.outcome(t, "revoke", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
		},
		"expire": func(t *rapid.T) {
			i := w.pick(t, "coupon")
			c := w.coupons[i]
			out, ev, err := Expire(c, w.now)
			mustFail(t, "expire", c, err, w.now)
			if err == nil && (c.ExpiresAt.IsZero() || w.now.Before(c.ExpiresAt)) {
				t.Fatalf("expired a coupon before its time: %+v at %v", c, w.now)
			}
			w.outcome(t, "expire", []int{i}, []Coupon{c}, []Coupon{out}, []Event{ev}, err)
		},
		"transfer": func(t *rapid.T) {
			i := w.pickWhere(t, "coupon", func(c Coupon) bool { return c.Usable(w.now) })
			c := w.coupons[i]
			allowed := rapid.IntRange(0, 3).Draw(t, "allowed") > 0
			out, evs, err := Transfer(c, rapid.SampledFrom(customers).Draw(t, "to"), w.now, "ops", allowed)
			mustFail(t, "transfer", c, err, w.now)
			if err == nil && (!allowed || c.StateAt(w.now) != Issued || len(evs) != 2) {
				t.Fatalf("transfer of %+v (allowed %v) succeeded with %d events", c, allowed, len(evs))
			}
			w.outcome(t, "transfer", []int{i}, []Coupon{c}, []Coupon{out}, evs, err)
		},
		"reissue": func(t *rapid.T) {
			i := w.pickWhere(t, "old", func(c Coupon) bool { return c.Holder != "" && !c.Usable(w.now) })
			j := w.pick(t, "fresh")
			if rapid.IntRange(0, 3).Draw(t, "anyFresh") > 0 { // usually a valid fresh one if any
				for k, c := range w.coupons {
					if c.StateAt(w.now) == Available && c.SeriesID == w.coupons[i].SeriesID && k != i {
						j = k
						break
					}
				}
			}
			old, fresh := w.coupons[i], w.coupons[j]
			p := ReissueParams{Actor: "support", External: rapid.IntRange(0, 9).Draw(t, "external") == 0, ExpiresAt: w.future(t, "expiry")}
			o, f, ev, err := Reissue(old, fresh, w.now, p)
			if err == nil && (old.Usable(w.now) || old.ReissuedTo != "" || old.ReissuedFrom != "" || p.External) {
				t.Fatalf("reissued %+v (external %v)", old, p.External)
			}
			if err != nil {
				w.outcome(t, "reissue", nil, []Coupon{old, fresh}, []Coupon{o, f}, nil, err)
				return
			}
			w.reissuedOld[old.ID]++
			w.inChain[old.ID], w.inChain[fresh.ID] = true, true
			if o.State != old.StateAt(w.now) || o.Holder != "" || f.Holder != old.Holder || f.State != Issued {
				t.Fatalf("reissue: old %+v, fresh %+v", o, f)
			}
			w.outcome(t, "reissue", []int{i, j}, []Coupon{old, fresh}, []Coupon{o, f}, []Event{ev}, err)
		},
		"": w.check,
	}
}

// check asserts the state machine's invariants after every action: every
// coupon validates; counters never go negative or past the coupon's
// capacity, and equal its unreversed redemption and live hold records; a
// redemption is reversed at most once; Revoked is terminal and holds no
// redemption or hold; expiry is monotone, and a coupon without one never
// expires; a coupon is reissued at most once.
func (w *world) check(t *rapid.T) {
	redeemed := map[string]int{}
	held := map[string]int{}
	for _, r := range w.records {
		switch r.Status {
		case StatusRedeemed:
			redeemed[r.CouponID]++
		case StatusHeld:
			held[r.CouponID]++
		}
		if w.reversals[r.ID] > 1 {
			t.Fatalf("redemption %s reversed %d times", r.ID, w.reversals[r.ID])
		}
	}
	for _, c := range w.coupons {
		if err := c.Validate(); err != nil {
			t.Fatalf("invalid coupon %+v: %v", c, err)
		}
		capacity := w.capacity[c.ID]
		if c.Redemptions < 0 || c.Holds < 0 || (capacity > 0 && c.Redemptions+c.Holds > capacity) {
			t.Fatalf("counters of %+v past capacity %d", c, capacity)
		}
		if c.Redemptions != redeemed[c.ID] || c.Holds != held[c.ID] {
			t.Fatalf("%s counts %d redemptions and %d holds; records say %d and %d",
				c.ID, c.Redemptions, c.Holds, redeemed[c.ID], held[c.ID])
		}
		if w.revoked[c.ID] && c.State != Revoked {
			t.Fatalf("revoked coupon %s is %v now", c.ID, c.State)
		}
		w.revoked[c.ID] = c.State == Revoked
		if c.State == Revoked && (c.Redemptions > 0 || c.Holds > 0) {
			t.Fatalf("revoked coupon with redemptions: %+v", c)
		}
		s := c.StateAt(w.now)
		if w.expired[c.ID] && s != Expired && s != Revoked {
			t.Fatalf("coupon %s was expired and is %v now", c.ID, s)
		}
		if s == Expired {
			w.expired[c.ID] = true
			if c.StateAt(w.now.Add(1000*time.Hour)) != Expired {
				t.Fatalf("expiry of %s is not monotone", c.ID)
			}
		}
		if c.ExpiresAt.IsZero() && (s == Expired || c.StateAt(w.now.Add(1e6*time.Hour)) == Expired) {
			t.Fatalf("coupon %s without expiry is expired", c.ID)
		}
		if w.reissuedOld[c.ID] > 1 || (w.inChain[c.ID] && c.ReissuedTo == "" && c.ReissuedFrom == "") {
			t.Fatalf("reissue chain broken at %+v", c)
		}
	}
}

// TestProperties runs random sequences of transitions on a few coupons with
// a clock that only moves forward, checking the invariants after each step.
// It fails too when some transition never succeeded over the whole run.
func TestProperties(t *testing.T) {
	successes := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		w := &world{
			now:         t0,
			capacity:    map[string]int{},
			revoked:     map[string]bool{},
			expired:     map[string]bool{},
			reversals:   map[string]int{},
			reissuedOld: map[string]int{},
			inChain:     map[string]bool{},
			successes:   successes,
		}
		for range rapid.IntRange(1, 4).Draw(t, "coupons") {
			w.create(t)
		}
		t.Repeat(w.actions())
	})
	t.Logf("successful transitions: %v", successes)
	if testing.Short() {
		return // -short runs too few sequences to reach every transition
	}
	for _, op := range []string{"issue", "redeem", "hold", "confirm", "release", "reverse", "revoke", "expire", "transfer", "reissue"} {
		if successes[op] == 0 && !t.Failed() {
			t.Errorf("no %s ever succeeded: the property run does not exercise it", op)
		}
	}
}
