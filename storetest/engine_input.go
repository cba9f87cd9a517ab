package storetest

import (
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// The input tests hold the engine to one answer for bad data on every
// store: a string that is not valid UTF-8, holds a control character or is
// longer than its kind of field allows, and a time outside the years 1900
// through 2199, are refused with InvalidArgument naming the field (or, in
// a series, InvalidConfig), and nothing changes. What the engine accepts,
// every store keeps as it is (StoresKeepWhatEngineAccepts, in
// engine_input_property.go).
var inputTests = []test{
	{"BadStringsRefused", testInputStrings},
	{"BadTimesRefused", testInputTimes},
	{"HoldEndingPastRange", testInputHoldEnd},
	{"BadSeriesRefused", testInputSeries},
	{"ClockOutOfRange", testInputClock},
	{"DirectoryAnswerChecked", testInputDirectory},
	{"ExpiryCappedAtRangeEnd", testInputExpiryCap},
	{"BulkFileGoesPastBadRows", testInputBulk},
}

// badStrings are the values each string field is tried with.
var badStrings = []struct{ name, v string }{
	{"NUL", "x\x00y"},
	{"InvalidUTF8", "x\xffy"},
	{"C1", "x\u0085y"},
	{"DEL", "x\x7fy"},
	// 3000 bytes that do not compress: past every maximum, and past what
	// PostgreSQL can index.
	{"TooLong", incompressible(3000)},
}

// incompressible returns n pseudo-random letters and digits, always the
// same: a value a store cannot shrink by compressing it.
func incompressible(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = chars[x%uint64(len(chars))]
	}
	return string(b)
}

// badTimes are the values each time field is tried with.
var badTimes = []struct {
	name string
	v    time.Time
}{
	{"Year1600", time.Date(1600, 6, 1, 0, 0, 0, 0, time.UTC)},
	{"JustBefore1900", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)},
	{"Year2200", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	{"Year2300", time.Date(2300, 6, 1, 0, 0, 0, 0, time.UTC)},
	{"Year12000", time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
}

// inputWorld is what the bad inputs are aimed at: a generated series with
// a redeemed coupon (alice's) and a held one (bob's), and an uploaded
// series with two codes.
type inputWorld struct {
	g, u      series.Series
	redeemed  coupon.Coupon
	held      coupon.Coupon
	reds      coupon.Redemption
	hold      coupon.Redemption
	stateKeys []store.CounterKey
}

func newInputWorld(e *env) *inputWorld {
	e.t.Helper()
	w := &inputWorld{g: e.gen("g", func(s *series.Series) { s.Transferable = true })}
	w.u = e.createSeries(baseSeries("u", uploadSrc()))
	e.upload(w.u.ID, "U-1", "U-2")
	w.redeemed = e.issue(w.g.ID, alice)
	w.reds = e.redeem(w.redeemed.Code, alice, "k-1").Redemption
	w.held = e.issue(w.g.ID, bob)
	w.hold = e.hold(w.held.Code, bob, "cart-1", 15*time.Minute).Redemption
	w.stateKeys = e.stateKeys(w.g.ID, w.u.ID)
	return w
}

// storeState is everything a store holds that an engine operation could
// change, read through the store: series, coupons, redemptions, the whole
// history, the code sequences and the counters of the given keys.
type storeState struct {
	Series      []series.Series
	Coupons     []coupon.Coupon
	Redemptions []coupon.Redemption
	Events      []coupon.Event
	Next        []int64
	Counts      []store.Count
}

// stateKeys are the counters of the given series for every known customer
// and every coupon.
func (e *env) stateKeys(seriesIDs ...string) []store.CounterKey {
	e.t.Helper()
	var keys []store.CounterKey
	customers := []string{alice, bob, carol, dave, erin}
	for _, id := range seriesIDs {
		keys = append(keys, key(limits.SeriesIssued, id, "", ""), key(limits.SeriesUses, id, "", ""))
		for _, c := range customers {
			keys = append(keys, key(limits.CustomerIssued, id, "", c), key(limits.CustomerSeriesUses, id, "", c))
		}
		for _, cp := range e.seriesCoupons(id) {
			keys = append(keys, codeCounterKey(limits.CodeUses, id, codeScopeOf(&cp), ""))
			for _, c := range customers {
				keys = append(keys, codeCounterKey(limits.CustomerCodeUses, id, codeScopeOf(&cp), c))
			}
		}
	}
	return keys
}

func (e *env) state(keys []store.CounterKey) storeState {
	e.t.Helper()
	var s storeState
	var err error
	if s.Series, err = e.st.ListSeries(e.ctx, store.SeriesQuery{}); err != nil {
		e.t.Fatalf("ListSeries: %v", err)
	}
	if s.Coupons, err = e.st.ListCoupons(e.ctx, store.CouponQuery{}); err != nil {
		e.t.Fatalf("ListCoupons: %v", err)
	}
	if s.Redemptions, err = e.st.ListRedemptions(e.ctx, store.RedemptionQuery{}); err != nil {
		e.t.Fatalf("ListRedemptions: %v", err)
	}
	s.Events = e.events(store.EventQuery{})
	for _, x := range s.Series {
		n, err := e.st.NextIndex(e.ctx, x.ID)
		if err != nil {
			e.t.Fatalf("NextIndex(%s): %v", x.ID, err)
		}
		s.Next = append(s.Next, n)
	}
	s.Counts = make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, s.Counts); err != nil {
		e.t.Fatalf("Counters: %v", err)
	}
	return s
}

// badInput is one operation given one bad value in one field.
type badInput[V any] struct {
	op, field string
	code      errcode.Code // InvalidArgument when zero
	run       func(e *env, w *inputWorld, bad V) error
}

// checkRefusals runs each badInput with each bad value on one world, and
// checks the error and that the store's state did not change.
func checkRefusals[V any](t *testing.T, e *env, cases []badInput[V], values []struct {
	name string
	v    V
}) {
	w := newInputWorld(e)
	before := e.state(w.stateKeys)
	for _, c := range cases {
		for _, b := range values {
			t.Run(c.op+"/"+c.field+"/"+b.name, func(t *testing.T) {
				code := c.code
				if code == 0 {
					code = errcode.InvalidArgument
				}
				wantField(t, c.run(e, w, b.v), code, c.field, "%s with a bad %s", c.op, c.field)
				if after := e.state(w.stateKeys); !same(t, after, before, "%s with a bad %s changes nothing in the store", c.op, c.field) {
					before = after // report each change once
				}
			})
		}
	}
}

func ref(id string) couponkit.CustomerRef { return couponkit.ByID(id) }

// heldUse is a valid use of bob's held coupon, which the cases spoil.
func heldUse(x *inputWorld) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{Code: x.held.Code, SeriesID: x.g.ID, Customer: ref(bob), IdempotencyKey: "k-new", Bill: eur("100")}
}

func testInputStrings(t *testing.T, e *env) {
	cases := stringRefusals
	values := make([]struct {
		name string
		v    string
	}, len(badStrings))
	for i, b := range badStrings {
		values[i].name, values[i].v = b.name, b.v
	}
	checkRefusals(t, e, cases, values)
}

func testInputTimes(t *testing.T, e *env) {
	cases := []badInput[time.Time]{
		{op: "Upload", field: "Rows[1].ExpiresAt", run: func(e *env, x *inputWorld, b time.Time) error {
			return uploadErr(e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: x.u.ID, Rows: []couponkit.UploadRow{{Code: "U-1"}, {Code: "U-9", ExpiresAt: b}}, Actor: "op"}))
		}},
		{op: "RemindersDue", field: "From", run: func(e *env, x *inputWorld, b time.Time) error {
			_, err := e.e.RemindersDue(e.ctx, b, t0)
			return err
		}},
		{op: "RemindersDue", field: "To", run: func(e *env, x *inputWorld, b time.Time) error {
			_, err := e.e.RemindersDue(e.ctx, t0, b)
			return err
		}},
	}
	for _, c := range seriesTimeFields {
		cases = append(cases, badInput[time.Time]{op: "CreateSeries", field: c.field, code: errcode.InvalidConfig,
			run: func(e *env, x *inputWorld, b time.Time) error {
				s := baseSeries("bad time", genSrc())
				c.set(&s, b)
				_, err := e.e.CreateSeries(e.ctx, s)
				return err
			}})
	}
	checkRefusals(t, e, cases, badTimes)
}

// testInputHoldEnd: a hold whose end would pass the range is refused.
func testInputHoldEnd(t *testing.T, e *env) {
	const year = 365 * 24 * time.Hour
	checkRefusals(t, e, []badInput[time.Duration]{
		{op: "Hold", field: "TTL", run: func(e *env, x *inputWorld, ttl time.Duration) error {
			_, err := e.e.Hold(e.ctx, couponkit.HoldRequest{RedeemRequest: redeemReq(x.held.Code, bob, "k-new", "100"), TTL: ttl})
			return err
		}},
	}, []struct {
		name string
		v    time.Duration
	}{{"171Years", 171 * year}, {"240Years", 240 * year}, {"290Years", 290 * year}})
}
