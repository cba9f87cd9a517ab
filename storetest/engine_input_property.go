package storetest

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// inputProperty is the property "every store keeps what the engine
// accepts": random strings and times, many at the edges of the rules
// (maximum lengths, multi-byte characters, emoji, characters that are valid
// but odd, times at the ends of the range, a clock at them), go through
// series creation, issue, redemption or hold, upload and revocation. Each
// operation either refuses, with InvalidArgument (InvalidConfig for a
// series) naming one of the fields whose value breaks the rules, or, when
// every value obeys them, succeeds, and what the store reads back equals
// what was given. The rules are written out here (see validText and
// validTime), not taken from the engine.
func (h *harness) inputProperty(t *testing.T) {
	e := h.env(t)
	checks := 100
	if h.sizes.Short {
		checks = 20
	}
	var n atomic.Int64
	stats := map[string]int{}
	withRapidFlags(checks, 0, func() {
		rapid.Check(t, func(rt *rapid.T) {
			(&inputRun{t: rt, e: e, n: n.Add(1), stats: stats}).run()
		})
	})
	if testing.Verbose() {
		t.Logf("outcomes: %v", stats)
	}
}

// inputRun is one random case of inputProperty.
type inputRun struct {
	t   *rapid.T
	e   *env
	n   int64 // distinguishes the codes of each case
	eng *couponkit.Engine
	clk *clock
	bad map[string]bool // the fields given a value that breaks the rules
	// stats counts the outcomes of each operation, logged at the end.
	stats map[string]int
}

// validText is the rule for strings: valid UTF-8, no control character,
// at most the kind's maximum length in bytes.
func validText(k input.Kind, s string) bool {
	return len(s) <= k.Max() && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// validTime is the rule for times: zero, or in the years 1900 through 2199.
func validTime(t time.Time) bool {
	return t.IsZero() || !t.Before(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)) && t.Before(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
}

// oddStrings are valid but unusual: each has a character that is not a
// space, so that rules asking for a non-blank value pass.
var oddStrings = []string{
	"é", "Zürich", "夏のセール", "🎉", "👩‍👩‍👧", "e\u0301", "\ufeffbom", "zero\u200bwidth",
	"line\u2028sep", "\u202eright-to-left", "\ufffd", "\U0010fffd", "non\ufffechar", "\uffff!",
	"nbsp\u00a0", "ﬁ", "İı", "ß", "'; DROP TABLE ck_coupons; --", `back\slash`, "%_like", "\\0",
}

// badStringValues break the rules whatever the kind.
var badStringValues = []string{"\x00", "a\x00b", "x\xff", "\xc3", "\xed\xa0\x80", "tab\t", "nl\n", "\x7f", "c1\u0085", "\u009f"}

// text draws a value for a string field of kind k: usually valid, often
// at an edge, sometimes breaking the rules. It records a bad value.
func (r *inputRun) text(field string, k input.Kind) string {
	max := k.Max()
	gens := []*rapid.Generator[string]{
		rapid.StringMatching(`[a-z][a-z0-9.@+-]{0,11}`),
		rapid.SampledFrom(oddStrings),
		rapid.SampledFrom([]string{
			strings.Repeat("x", max), strings.Repeat("é", max/2), strings.Repeat("🎉", max/4),
			"a" + strings.Repeat("€", (max-1)/3), strings.Repeat("\\", max),
		}),
		rapid.StringOfN(rapid.RuneFrom(nil, unicode.L, unicode.S, unicode.M, unicode.Zs), 1, max/4, -1).
			Filter(func(s string) bool { return strings.TrimSpace(s) != "" }),
	}
	if rapid.IntRange(0, 9).Draw(r.t, field+" is bad") == 9 { // rapid leans to the low end
		gens = []*rapid.Generator[string]{
			rapid.SampledFrom(badStringValues),
			rapid.SampledFrom([]string{strings.Repeat("x", max+1), strings.Repeat("é", max/2) + "x", incompressible(3000)}),
		}
	}
	v := rapid.OneOf(gens...).Draw(r.t, field)
	if !validText(k, v) {
		r.bad[field] = true
	}
	return v
}

// at draws a time for a field: zero, at an edge of the range, inside it,
// or outside it. Past times are drawn only when past is set.
func (r *inputRun) at(field string, past bool) time.Time {
	now := r.clk.Now()
	// Times a store keeps are whole seconds (see the package documentation);
	// the refused ones need not be.
	choices := []time.Time{{}, {}, input.End().Add(-time.Second), input.End().Add(-time.Hour), now.Add(time.Hour)}
	if past {
		choices = append(choices, input.Earliest(), input.Earliest().Add(time.Second), now.Add(-time.Hour))
	}
	if rapid.IntRange(0, 7).Draw(r.t, field+" is bad") == 7 {
		choices = []time.Time{
			input.End(), input.End().Add(time.Nanosecond), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), input.Earliest().Add(-time.Nanosecond),
			time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	v := rapid.SampledFrom(choices).Draw(r.t, field)
	if !validTime(v) {
		r.bad[field] = true
	}
	return v
}

// expect checks an operation's error against the fields drawn bad since
// the last call, and reports whether the operation succeeded.
func (r *inputRun) expect(op string, err error, code errcode.Code) bool {
	r.t.Helper()
	bad := r.bad
	r.bad = map[string]bool{}
	if len(bad) == 0 {
		if err != nil {
			r.t.Fatalf("%s with values that obey the rules: %v", op, err)
		}
		r.stats[op+" ok"]++
		return true
	}
	for _, ce := range errcode.All(err) {
		if ce.Code == code && bad[ce.Field] {
			r.stats[op+" refused"]++
			return false
		}
	}
	r.t.Fatalf("%s with a bad value in %v: got %v (code %d), want %d %s on one of those fields", op, keys(bad), err, errcode.CodeOf(err), code, code)
	return false
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// equal fails the case when got differs from want.
func (r *inputRun) equal(what string, got, want any) {
	r.t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		r.t.Fatalf("%s: the store read back something else (-given +read):\n%s", what, d)
	}
}

func (r *inputRun) run() {
	r.bad = map[string]bool{}
	clocks := []time.Time{
		t0, t0, t0, input.Earliest(), input.Earliest().Add(36 * time.Hour), input.End().Add(-40 * 24 * time.Hour),
		input.End().Add(-2 * time.Second),
	}
	if rapid.IntRange(0, 9).Draw(r.t, "clock is bad") == 9 {
		clocks = []time.Time{input.End(), time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC), input.Earliest().Add(-time.Hour)}
	}
	r.clk = newClock(rapid.SampledFrom(clocks).Draw(r.t, "clock"))
	if !validTime(r.clk.Now()) {
		r.bad["Config.Now"] = true
	}
	eng, err := couponkit.New(couponkit.Config{Store: r.e.st, Now: r.clk.Now, CodeKey: seriesKey, Rates: rates})
	if err != nil {
		r.t.Fatalf("couponkit.New: %v", err)
	}
	r.eng = eng
	u, ok := r.uploadSeries()
	if !ok {
		if !validTime(r.clk.Now()) {
			return // every operation refuses
		}
		if u, err = r.eng.CreateSeries(r.e.ctx, baseSeries("plain", uploadSrc())); err != nil {
			r.t.Fatalf("CreateSeries: %v", err)
		}
	}
	r.issueAndUse()
	r.uploadAndRevoke(u)
}

// uploadSeries creates an uploaded series from drawn strings and times and
// reads it back.
func (r *inputRun) uploadSeries() (series.Series, bool) {
	s := baseSeries(r.text("Name", input.Name), uploadSrc())
	s.TimeZone = rapid.SampledFrom([]string{"UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/Santiago"}).Draw(r.t, "TimeZone")
	s.Redemption.Places = limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Till, ID: r.text("Redemption.Places[0].ID", input.Place)})
	s.Reminders = []series.Reminder{{DaysBefore: 1, Channel: r.text("Reminders[0].Channel", input.Channel)}}
	s.End = r.at("End", false)
	s.Redemption.Start = r.at("Redemption.Start", true)
	s.Redemption.NewCustomers.RegisteredTo = r.at("Redemption.NewCustomers.RegisteredTo", true)
	if !r.bad["End"] && !s.End.IsZero() && !s.End.After(r.clk.Now().Add(time.Second)) {
		s.End = time.Time{} // a series that has ended takes no upload; not the rule under test
	}
	code := errcode.InvalidConfig
	if r.bad["Config.Now"] {
		code = errcode.InvalidArgument
		for f := range r.bad {
			if f != "Config.Now" {
				delete(r.bad, f) // the clock is checked first: the series is never looked at
			}
		}
	}
	got, err := r.eng.CreateSeries(r.e.ctx, s)
	if !r.expect("CreateSeries", err, code) {
		return series.Series{}, false
	}
	read, err := r.eng.Series(r.e.ctx, got.ID)
	if err != nil {
		r.t.Fatalf("Series(%q): %v", got.ID, err)
	}
	r.equal("the series", read, got)
	r.equal("the series' name, place and channel", []string{read.Name, read.Redemption.Places.Refs()[0].ID, read.Reminders[0].Channel},
		[]string{s.Name, s.Redemption.Places.Refs()[0].ID, s.Reminders[0].Channel})
	r.equal("the series' times", []time.Time{read.End, read.Redemption.Start, read.CreatedAt},
		[]time.Time{s.End, s.Redemption.Start, r.clk.Now()})
	return got, true
}

// issueAndUse issues a coupon of a new generated series (whose long expiry
// a clock near the end of the range pushes to the cap) and redeems or holds
// it, with drawn strings.
func (r *inputRun) issueAndUse() {
	g, err := r.eng.CreateSeries(r.e.ctx, baseSeries("g", genSrc(), func(s *series.Series) {
		s.Expiry.N = rapid.SampledFrom([]int{0, 30, series.MaxExpiryDays}).Draw(r.t, "Expiry.N")
	}))
	if err != nil {
		r.t.Fatalf("CreateSeries: %v", err)
	}
	customer := r.text("Customer.ID", input.Customer)
	req := couponkit.IssueRequest{SeriesID: g.ID, Customer: couponkit.ByID(customer),
		Actor: r.text("Actor", input.Actor), Reason: r.text("Reason", input.Reason)}
	res, err := r.eng.Issue(r.e.ctx, req)
	if !r.expect("Issue", err, errcode.InvalidArgument) {
		return
	}
	c := res.Coupon
	if c.Holder != customer || c.ExpiresAt.After(input.End()) {
		r.t.Fatalf("Issue to %q returned holder %q, expiry %v", customer, c.Holder, c.ExpiresAt)
	}
	r.equal("the issued coupon", r.coupon(c.ID), c)
	r.lastEvent(c.ID, coupon.EventIssued, customer, req.Actor, req.Reason)

	use := couponkit.RedeemRequest{Code: c.Code, Customer: couponkit.ByID(customer), Bill: eur("100"),
		IdempotencyKey: r.text("IdempotencyKey", input.Key), Actor: r.text("Actor", input.Actor),
		Place: limits.Place{Till: r.text("Place.Till", input.Place), Concept: r.text("Place.Concept", input.Place)}}
	var out couponkit.RedeemResult
	if rapid.Bool().Draw(r.t, "hold") {
		ttl := rapid.SampledFrom([]time.Duration{time.Minute, 24 * time.Hour, 100 * 365 * 24 * time.Hour}).Draw(r.t, "TTL")
		if !validTime(r.clk.Now().Add(ttl)) {
			r.bad["TTL"] = true
		}
		out, err = r.eng.Hold(r.e.ctx, couponkit.HoldRequest{RedeemRequest: use, TTL: ttl})
	} else {
		out, err = r.eng.Redeem(r.e.ctx, use)
	}
	if !r.expect("Redeem or Hold", err, errcode.InvalidArgument) {
		return
	}
	rs, err := r.e.st.ListRedemptions(r.e.ctx, store.RedemptionQuery{CouponID: c.ID})
	if err != nil || len(rs) != 1 {
		r.t.Fatalf("ListRedemptions of the coupon: %d records, %v", len(rs), err)
	}
	r.equal("the redemption", rs[0], out.Redemption)
	r.equal("the redemption's key and place", []string{rs[0].IdempotencyKey, rs[0].Location.Till, rs[0].Location.Concept},
		[]string{use.IdempotencyKey, use.Place.Till, use.Place.Concept})
	again, err := r.eng.Redeem(r.e.ctx, use)
	if out.Redemption.Status == coupon.StatusRedeemed && (err != nil || !again.Replayed || again.Redemption.ID != out.Redemption.ID) {
		r.t.Fatalf("repeating the redemption with key %q: %+v, %v; want the first one replayed", use.IdempotencyKey, again.Redemption, err)
	}
}

// uploadAndRevoke uploads two codes to the series, the first to a drawn
// customer, the second with a drawn expiry, and revokes the customer's.
func (r *inputRun) uploadAndRevoke(u series.Series) {
	customer := r.text("Rows[0].Customer.ID", input.Customer)
	code := r.uploadCode()
	rows := []couponkit.UploadRow{
		{Code: code, Customer: couponkit.ByID(customer)},
		{Code: "R-" + strconv.FormatInt(r.n, 10), ExpiresAt: r.at("Rows[1].ExpiresAt", true)},
	}
	if exp := rows[1].ExpiresAt; validTime(exp) && !exp.IsZero() && !exp.After(r.clk.Now()) {
		r.bad["ExpiresAt"] = true // a code's own expiry comes after its creation
	}
	actor := r.text("Actor", input.Actor)
	if r.bad["Actor"] {
		_, err := r.eng.Upload(r.e.ctx, couponkit.UploadRequest{SeriesID: u.ID, Rows: rows, Actor: actor})
		r.bad = map[string]bool{"Actor": true}
		r.expect("Upload", err, errcode.InvalidArgument)
		return
	}
	res, err := r.eng.Upload(r.e.ctx, couponkit.UploadRequest{SeriesID: u.ID, Rows: rows, Actor: actor})
	if err != nil {
		r.t.Fatalf("Upload: %v", err)
	}
	failed := map[int]error{}
	for _, f := range res.Failed {
		failed[f.Row] = f.Err
	}
	bad := r.bad
	r.bad = map[string]bool{"Rows[0].Code": bad["Rows[0].Code"], "Rows[0].Customer.ID": bad["Rows[0].Customer.ID"]}
	clean(r.bad)
	code0 := errcode.InvalidArgument
	if len(r.bad) == 0 && !uploadable(code) {
		r.bad["Code"], code0 = true, errcode.InvalidCode
	}
	issued := r.expect("Upload row 0", failed[0], code0)
	r.bad = map[string]bool{"Rows[1].ExpiresAt": bad["Rows[1].ExpiresAt"], "ExpiresAt": bad["ExpiresAt"]}
	clean(r.bad)
	if r.expect("Upload row 1", failed[1], errcode.InvalidArgument) {
		cs := r.byCode(u.ID, rows[1].Code)
		r.equal("the uploaded code's expiry", cs.ExpiresAt, rows[1].ExpiresAt)
	}
	if !issued {
		return
	}
	c := r.byCode(u.ID, code)
	r.equal("the uploaded code and its holder", []string{c.Code, c.Holder}, []string{strings.TrimSpace(code), customer})
	rv := couponkit.RevokeRequest{SeriesID: u.ID, Customer: couponkit.ByID(customer),
		Actor: r.text("Actor", input.Actor), Reason: r.text("Reason", input.Reason)}
	out, err := r.eng.Revoke(r.e.ctx, rv)
	if !r.expect("Revoke", err, errcode.InvalidArgument) {
		return
	}
	if out.RevokedCount != 1 {
		r.t.Fatalf("Revoke of %q's coupons revoked %d, want 1: %+v", customer, out.RevokedCount, out)
	}
	r.lastEvent(c.ID, coupon.EventRevoked, customer, rv.Actor, rv.Reason)
}

// uploadCode draws a code to upload: mostly letters, digits, '-' and '_'
// of every length up to the longest code (64), sometimes longer or with
// other characters, sometimes breaking the input rules.
func (r *inputRun) uploadCode() string {
	gens := []*rapid.Generator[string]{
		rapid.StringMatching(`[A-Za-z0-9_-]{1,62}`),
		rapid.StringMatching(`[A-Za-z0-9_-]{1,62}`),
		rapid.SampledFrom([]string{strings.Repeat("Z", 62), strings.Repeat("z", 63), " padded ", "é", "🎉", "a\u00a0b"}),
	}
	if rapid.IntRange(0, 9).Draw(r.t, "Rows[0].Code is bad") == 9 {
		gens = []*rapid.Generator[string]{
			rapid.SampledFrom(badStringValues),
			rapid.SampledFrom([]string{strings.Repeat("Q", input.Code.Max()+1), incompressible(3000)}),
		}
	}
	v := rapid.OneOf(gens...).Draw(r.t, "Rows[0].Code")
	v = "P" + strconv.FormatInt(r.n, 36) + v // unique in the store
	if !validText(input.Code, v) {
		r.bad["Rows[0].Code"] = true
	}
	return v
}

// uploadable reports whether an upload takes a code that obeys the input
// rules: letters, digits, '-' and '_' once trimmed, at most 64 of them.
func uploadable(code string) bool {
	c := strings.TrimSpace(code)
	return c != "" && len(c) <= 64 && !strings.ContainsFunc(c, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'))
	})
}

func clean(m map[string]bool) {
	for k, v := range m {
		if !v {
			delete(m, k)
		}
	}
}

func (r *inputRun) coupon(id string) coupon.Coupon {
	r.t.Helper()
	c, err := r.e.st.Coupon(r.e.ctx, id)
	if err != nil {
		r.t.Fatalf("store.Coupon(%q): %v", id, err)
	}
	return c
}

func (r *inputRun) byCode(seriesID, code string) coupon.Coupon {
	r.t.Helper()
	cs, err := r.e.st.CouponsByCode(r.e.ctx, seriesID, strings.ToUpper(strings.TrimSpace(code)))
	if err != nil || len(cs) != 1 {
		r.t.Fatalf("CouponsByCode(%q): %d coupons, %v", code, len(cs), err)
	}
	return cs[0]
}

// lastEvent checks the last event of a coupon's history as the store reads
// it back.
func (r *inputRun) lastEvent(couponID string, kind coupon.EventKind, customer, actor, reason string) {
	r.t.Helper()
	evs, err := r.e.st.Events(r.e.ctx, store.EventQuery{CouponID: couponID})
	if err != nil || len(evs) == 0 {
		r.t.Fatalf("Events of %s: %d, %v", couponID, len(evs), err)
	}
	ev := evs[len(evs)-1]
	r.equal("the last event of the coupon", []any{ev.Kind, ev.Customer, ev.Actor, ev.Reason}, []any{kind, customer, actor, reason})
}
