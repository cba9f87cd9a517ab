package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

var transferTests = []test{
	{"Allowed", testTransfer},
	{"NotAllowed", testTransferNotAllowed},
	{"FromNotHolder", testTransferFromNotHolder},
	{"UnusableCoupons", testTransferUnusable},
	{"CommonCode", testTransferCommon},
}

var reissueTests = []test{
	{"StillUsable", testReissueUsable},
	{"Expired", testReissueExpired},
	{"RevokedAndRedeemed", testReissueRevokedRedeemed},
	{"ExternalProvider", testReissueExternal},
	{"UploadedPoolEmpty", testReissuePoolEmpty},
	{"UploadedFromPool", testReissueFromPool},
}

var expiryTests = []test{
	{"ExpireDue", testExpireDue},
	{"RemindersDue", testRemindersDue},
}

func transferable(e *env) series.Series {
	return e.gen("transfer", func(s *series.Series) { s.Transferable = true })
}

func testTransfer(t *testing.T, e *env) {
	s := transferable(e)
	c := e.issue(s.ID, alice)
	e.clk.Advance(time.Minute)
	moved, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(alice), To: couponkit.CustomerRef{ExternalID: "ext-bob"}, Actor: "support", Reason: "gift"})
	if !wantOK(t, err, "transferring an issued coupon of a transferable series") {
		return
	}
	if moved.Holder != bob || moved.State != coupon.Issued || moved.Version != c.Version+1 || moved.Redemptions != 0 {
		t.Errorf("a transfer changes the holder only (and the version): %+v", moved)
	}
	same(t, e.stored(c.ID), moved, "the store holds the transferred coupon")
	out := e.customerHistory(alice, s.ID)
	in := e.customerHistory(bob, s.ID)
	if last := out[len(out)-1]; last.Kind != coupon.EventTransferredOut || last.Counterparty != bob || last.CouponID != c.ID || last.Reason != "gift" {
		t.Errorf("the old holder's history gets TransferredOut naming the new holder: %+v", last)
	}
	if len(in) != 1 || in[0].Kind != coupon.EventTransferReceived || in[0].Counterparty != alice || in[0].Actor != "support" {
		t.Errorf("the new holder's history gets TransferReceived naming the old holder: %+v", in)
	}
	same(t, kinds(e.history(c.ID)), []coupon.EventKind{coupon.EventIssued, coupon.EventTransferredOut, coupon.EventTransferReceived}, "the coupon's history records both sides")
	aliceCoupons, err := e.e.CustomerCoupons(e.ctx, couponkit.ByID(alice), "")
	mustOK(t, err, "CustomerCoupons")
	if len(aliceCoupons) != 0 {
		t.Errorf("the old holder no longer lists the coupon: %d", len(aliceCoupons))
	}
	_, err = e.tryRedeem(c.Code, alice, "k1")
	wantCode(t, err, errcode.CouponNotFound, "the old holder may no longer redeem: to them the code no longer exists")
	_, err = e.tryRedeem(c.Code, bob, "k2")
	wantOK(t, err, "the new holder may redeem")
	if n := e.issuedCounts(s.ID, bob); n != [2]int64{1, 0} {
		t.Errorf("a transfer is not an issue: counters %v", n)
	}
}

func testTransferNotAllowed(t *testing.T, e *env) {
	s := e.gen("fixed")
	c := e.issue(s.ID, alice)
	_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(alice), To: couponkit.ByID(bob)})
	wantCode(t, err, errcode.TransferNotAllowed, "a series that does not allow transfer refuses it (1107)")
	if got := e.stored(c.ID); got.Holder != alice {
		t.Errorf("a refused transfer changes nothing")
	}
}

func testTransferFromNotHolder(t *testing.T, e *env) {
	s := transferable(e)
	c := e.issue(s.ID, alice)
	_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(carol), To: couponkit.ByID(bob)})
	wantCode(t, err, errcode.CouponNotFound, "a transfer from a customer who does not hold the coupon is refused as for an unknown code")
	unknown := err
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, To: couponkit.ByID(erin)})
	wantField(t, err, errcode.InvalidArgument, "From", "a transfer without From is refused: the holder must be named")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(alice), To: couponkit.ByID("nobody")})
	wantCode(t, err, errcode.UnknownCustomer, "a transfer to an unknown customer is refused")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: c.Code, From: couponkit.ByID(alice), To: couponkit.ByID(alice)})
	wantCode(t, err, errcode.InvalidArgument, "a transfer to the holder is refused")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "NOSUCH12", From: couponkit.ByID(carol), To: couponkit.ByID(bob)})
	wantCode(t, err, errcode.CouponNotFound, "a transfer of an unknown code is refused")
	if err != nil && unknown != nil && strings.ReplaceAll(unknown.Error(), c.Code, "X") != strings.ReplaceAll(err.Error(), "NOSUCH12", "X") {
		t.Errorf("a code held by someone else and an unknown code must answer alike:\n%v\n%v", unknown, err)
	}
	if got := e.stored(c.ID); got.Holder != alice || got.Version != c.Version {
		t.Errorf("refused transfers change nothing: %+v", got)
	}
}

func testTransferUnusable(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc(), func(s *series.Series) {
		s.Transferable = true
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
	}))
	e.upload(s.ID, "T-1", "T-2", "T-3", "T-4", "T-5")
	to := couponkit.ByID(bob)
	_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "T-1", From: couponkit.ByID(alice), To: to})
	wantCode(t, err, errcode.CouponNotFound, "an Available coupon cannot be transferred: it has no holder, so From is not it")
	red := e.issue(s.ID, alice)
	e.redeem(red.Code, alice, "k")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: red.Code, From: couponkit.ByID(alice), To: to})
	wantCode(t, err, errcode.Redeemed, "a redeemed coupon cannot be transferred")
	rev := e.issue(s.ID, alice)
	_, err = e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{rev.Code}})
	mustOK(t, err, "Revoke")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: rev.Code, From: couponkit.ByID(alice), To: to})
	wantCode(t, err, errcode.Revoked, "a revoked coupon cannot be transferred")
	held := e.issue(s.ID, alice)
	e.hold(held.Code, alice, "cart", time.Minute)
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: held.Code, From: couponkit.ByID(alice), To: to})
	wantCode(t, err, errcode.InvalidTransition, "a coupon with a live hold cannot be transferred")
	exp := e.issue(s.ID, alice)
	e.clk.Advance(14 * time.Hour)
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: exp.Code, From: couponkit.ByID(alice), To: to})
	wantCode(t, err, errcode.Expired, "an expired coupon cannot be transferred")
}

func testTransferCommon(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("common", commonSrc("GIFT"), func(s *series.Series) { s.Transferable = true }))
	a := e.issue(s.ID, alice)
	e.issue(s.ID, bob)
	_, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "GIFT", From: couponkit.ByID(dave), To: couponkit.ByID(carol)})
	wantCode(t, err, errcode.CouponNotFound, "a common code names one coupon per customer: From must hold one")
	_, err = e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "GIFT", From: couponkit.ByID(alice), To: couponkit.ByID(bob)})
	wantCode(t, err, errcode.CommonCodeIssued, "a common coupon cannot be transferred to a customer who already holds the code (1116)")
	moved, err := e.e.Transfer(e.ctx, couponkit.TransferRequest{Code: "GIFT", From: couponkit.ByID(alice), To: couponkit.ByID(carol)})
	if wantOK(t, err, "a common coupon moves to a customer without one") && (moved.ID != a.ID || moved.Holder != carol) {
		t.Errorf("alice's coupon of the common code is carol's now: %+v", moved)
	}
	_, err = e.tryRedeem("GIFT", carol, "k")
	wantOK(t, err, "the new holder redeems the common code")
	// carol holds the common code now, though it was never issued to her:
	// issuing it to her would be a second coupon of one common code.
	_, err = e.e.Issue(e.ctx, issueReq(s.ID, couponkit.ByID(carol)))
	wantDenied(t, err, reasons(limits.CommonCodeIssued), "issuing a common code to a customer who received it by transfer is a second issue of it (1224), not a conflict")
	if n := e.counters(s.ID); n.Issued != 2 {
		t.Errorf("the refused issue counts nothing: %d", n.Issued)
	}
}

func testReissueUsable(t *testing.T, e *env) {
	s := e.gen("usable")
	c := e.issue(s.ID, alice)
	_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.Code})
	wantCode(t, err, errcode.StillUsable, "a coupon that can still be used cannot be reissued (1108)")
	if cs := e.seriesCoupons(s.ID); len(cs) != 1 {
		t.Errorf("a refused reissue makes no coupon: %d", len(cs))
	}
}

func testReissueExpired(t *testing.T, e *env) {
	s := e.gen("expired", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0} })
	c := e.issue(s.ID, alice)
	e.clk.Advance(24 * time.Hour)
	res, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.Code, Notify: true, Actor: "support"})
	if !wantOK(t, err, "an expired coupon may be reissued") {
		return
	}
	now := e.clk.Now()
	o, n := res.Old, res.New
	if o.ID != c.ID || o.Holder != "" || o.ReissuedTo != n.ID || o.State != coupon.Expired || o.Code != c.Code {
		t.Errorf("the old coupon keeps its code, belongs to no one, records its replacement and is recorded Expired: %+v", o)
	}
	if n.SeriesID != s.ID || n.Holder != alice || n.ReissuedFrom != c.ID || n.State != coupon.Issued || n.Code == c.Code || !n.IssuedAt.Equal(now) ||
		!n.ExpiresAt.Equal(time.Date(2030, 1, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the replacement is a fresh code of the same series issued to the holder now, with the series' expiry: %+v", n)
	}
	same(t, e.stored(o.ID), o, "the store holds the replaced coupon")
	same(t, e.stored(n.ID), n, "the store holds the replacement")
	evs := e.history(c.ID)
	ev := evs[len(evs)-1]
	if ev.Kind != coupon.EventReissued || ev.OldCode != c.Code || ev.NewCode != n.Code || ev.NewCouponID != n.ID || ev.Actor != "support" || !ev.Notify || ev.Customer != alice {
		t.Errorf("the Reissued event records old and new code, actor and notification, for the holder: %+v", ev)
	}
	_, err = e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.Code})
	wantCode(t, err, errcode.AlreadyReissued, "a coupon is reissued once (1109)")
	mine, err := e.e.CustomerCoupons(e.ctx, couponkit.ByID(alice), s.ID)
	mustOK(t, err, "CustomerCoupons")
	if len(mine) != 1 || mine[0].ID != n.ID {
		t.Errorf("the old code no longer belongs to the customer; the replacement does: %d coupons", len(mine))
	}
	_, err = e.tryRedeem(n.Code, alice, "k")
	wantOK(t, err, "the replacement is usable")
}

func testReissueRevokedRedeemed(t *testing.T, e *env) {
	s := e.gen("unusable")
	rev := e.issue(s.ID, alice)
	red := e.issue(s.ID, bob)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{rev.Code}})
	mustOK(t, err, "Revoke")
	e.redeem(red.Code, bob, "k")
	for _, c := range []struct {
		code, holder string
		state        coupon.State
	}{{rev.Code, alice, coupon.Revoked}, {red.Code, bob, coupon.Redeemed}} {
		res, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.code})
		if !wantOK(t, err, "a %s coupon may be reissued", c.state) {
			continue
		}
		if res.Old.State != c.state || res.New.Holder != c.holder {
			t.Errorf("reissuing a %s coupon keeps its state and issues a replacement to %s: %+v / %+v", c.state, c.holder, res.Old, res.New)
		}
		_, err = e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: res.New.Code})
		wantCode(t, err, errcode.StillUsable, "the replacement is usable, so it cannot be reissued")
	}
}

func testReissueExternal(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("partner", series.Source{Kind: series.ThirdParty, WithCustomers: true}, func(s *series.Series) {
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0}
	}))
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: s.ID, Rows: rowsFor(couponkit.ByID(alice), "X-1", "X-2"), Actor: "op"})
	mustOK(t, err, "Upload")
	if len(res.Failed) > 0 {
		t.Fatalf("Upload: %+v", res.Failed)
	}
	e.clk.Advance(24 * time.Hour)
	_, err = e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: "X-1"})
	wantCode(t, err, errcode.ExternalProvider, "codes from an outside provider cannot be reissued (1111)")
}

func testReissuePoolEmpty(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "Q-1")
	c := e.issue(s.ID, alice)
	_, err := e.e.Revoke(e.ctx, couponkit.RevokeRequest{Codes: []string{c.Code}})
	mustOK(t, err, "Revoke")
	before := e.stored(c.ID)
	_, err = e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.Code})
	wantCode(t, err, errcode.PoolEmpty, "reissuing from an uploaded series with no Available code left is PoolEmpty (1110)")
	same(t, e.stored(c.ID), before, "a refused reissue changes nothing")
}

func testReissueFromPool(t *testing.T, e *env) {
	s := e.createSeries(baseSeries("pool", uploadSrc()))
	e.upload(s.ID, "Q-1", "Q-2")
	c := e.issue(s.ID, alice)
	e.redeem(c.Code, alice, "k")
	res, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: c.Code})
	if !wantOK(t, err, "reissuing a redeemed uploaded code") {
		return
	}
	other := "Q-1"
	if c.Code == "Q-1" {
		other = "Q-2"
	}
	if res.New.Code != other || res.New.Holder != alice {
		t.Errorf("the replacement is the pool's other code, issued to the holder: %+v", res.New)
	}
	if n := e.counters(s.ID); n.Issued != 1 {
		t.Errorf("a reissue replaces an issue; it is not counted as another: %d", n.Issued)
	}
}

func testExpireDue(t *testing.T, e *env) {
	short := e.gen("short", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0} })
	long := e.gen("long", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 5} })
	pool := e.createSeries(baseSeries("pool", uploadSrc(), func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.Never} }))
	res, err := e.e.Upload(e.ctx, couponkit.UploadRequest{SeriesID: pool.ID, Rows: []couponkit.UploadRow{{Code: "OWN-1", ExpiresAt: t0.Add(time.Hour)}, {Code: "OWN-2"}}, Actor: "op"})
	mustOK(t, err, "Upload")
	if len(res.Failed) > 0 {
		t.Fatalf("Upload: %+v", res.Failed)
	}
	s1, s2 := e.issue(short.ID, alice), e.issue(short.ID, bob)
	e.redeem(s2.Code, bob, "k") // redeemed before expiry: stays Redeemed
	l1 := e.issue(long.ID, alice)
	e.clk.Advance(14 * time.Hour) // midnight
	n, err := e.e.ExpireDue(e.ctx)
	if !wantOK(t, err, "ExpireDue") {
		return
	}
	if n != 2 {
		t.Errorf("the sweep marks the issued coupon past its expiry and the available one past its own: %d, want 2", n)
	}
	own := e.seriesCoupons(pool.ID)
	for _, x := range []struct {
		id   string
		want coupon.State
	}{{s1.ID, coupon.Expired}, {s2.ID, coupon.Redeemed}, {l1.ID, coupon.Issued}, {own[0].ID, coupon.Expired}, {own[1].ID, coupon.Available}} {
		got := e.stored(x.id)
		if got.State != x.want {
			t.Errorf("after the sweep coupon %s is stored %s, want %s", got.Code, got.State, x.want)
		}
		if x.want == coupon.Expired {
			if !got.LastStatusChange.Equal(e.clk.Now()) {
				t.Errorf("the sweep records the status change time: %v", got.LastStatusChange)
			}
			evs := e.history(x.id)
			if last := evs[len(evs)-1]; last.Kind != coupon.EventExpired || !last.At.Equal(e.clk.Now()) || last.Actor != "" {
				t.Errorf("the sweep appends an Expired event by the clock: %+v", last)
			}
		}
	}
	n, err = e.e.ExpireDue(e.ctx)
	if wantOK(t, err, "ExpireDue again") && n != 0 {
		t.Errorf("a second sweep finds nothing more: %d", n)
	}
	_, err = e.tryRedeem(s1.Code, alice, "k")
	wantCode(t, err, errcode.Expired, "a swept coupon cannot be redeemed")
}

// testRemindersDue: a reminder is N days before the coupon's last valid
// day at a local time of day, in the series' time zone, whatever clock
// change lies between; RemindersDue lists exactly the reminders due in
// (from, to] of Issued coupons of active series.
func testRemindersDue(t *testing.T, e *env) {
	// Issued Monday 7 Jan 2030 11:00 in Berlin: the last valid day is 83
	// days later, Sunday 31 March, the day Berlin moves its clocks from
	// 02:00 to 03:00 (UTC+1 to UTC+2); the coupon expires at the end of it.
	s := e.gen("remind", func(s *series.Series) {
		s.TimeZone = "Europe/Berlin"
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 83}
		s.Reminders = []series.Reminder{
			{DaysBefore: 0, At: series.At(10, 0), Channel: "sms"},
			{DaysBefore: 2, At: series.At(10, 0), Channel: "email"},
		}
	})
	c1 := e.issue(s.ID, alice)
	c2 := e.issue(s.ID, bob)
	e.redeem(c2.Code, bob, "k") // a redeemed coupon needs no reminder
	e.clk.Advance(2 * time.Hour)
	c3 := e.issue(s.ID, carol) // issued the same day: same expiry
	e.clk.Advance(24 * time.Hour)
	c4 := e.issue(s.ID, dave) // a day later: last valid day Monday 1 April
	paused := e.gen("paused", func(s *series.Series) {
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 83}
		s.Reminders = []series.Reminder{{At: series.At(10, 0), Channel: "sms"}}
	})
	e.issue(paused.ID, alice)
	_, err := e.e.SetSeriesStatus(e.ctx, paused.ID, series.Paused)
	mustOK(t, err, "pause")

	utc := func(m time.Month, d, h int) time.Time { return time.Date(2030, m, d, h, 0, 0, 0, time.UTC) }
	expires := utc(time.March, 31, 22) // 1 April 00:00 in Berlin, summer time
	if got := e.stored(c1.ID).ExpiresAt; !got.Equal(expires) {
		t.Fatalf("setup: the coupon expires at %v, want %v", got, expires)
	}
	smsDue := utc(time.March, 31, 8) // 31 March 10:00, summer time
	got, err := e.e.RemindersDue(e.ctx, smsDue.Add(-time.Hour), smsDue)
	if !wantOK(t, err, "RemindersDue") {
		return
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.Coupon.ID)
		if !r.DueAt.Equal(smsDue) || r.Reminder.Channel != "sms" || !r.ExpiresAt.Equal(expires) || r.SeriesID != s.ID {
			t.Errorf("a due reminder names its series, reminder, due time and expiry: %+v", r)
		}
	}
	same(t, ids, []string{c1.ID, c3.ID}, "the window (07:00, 08:00 UTC] of 31 March holds the 10:00 (summer time) reminders of the last day, for the two issued coupons of the active series, by due time then id; not the redeemed one, not the paused series'")
	got, err = e.e.RemindersDue(e.ctx, smsDue, smsDue.Add(time.Hour))
	if wantOK(t, err, "RemindersDue") && len(got) != 0 {
		t.Errorf("the window excludes its start: a reminder due at the start is not due again: %+v", got)
	}
	got, err = e.e.RemindersDue(e.ctx, smsDue.Add(time.Hour), smsDue.Add(-time.Hour))
	if wantOK(t, err, "RemindersDue") && len(got) != 0 {
		t.Errorf("an empty window holds no reminder: %+v", got)
	}

	type due struct {
		Coupon, Channel string
		At              time.Time
	}
	got, err = e.e.RemindersDue(e.ctx, t0, utc(time.April, 2, 0))
	if !wantOK(t, err, "RemindersDue") {
		return
	}
	var all []due
	for _, r := range got {
		all = append(all, due{r.Coupon.ID, r.Reminder.Channel, r.DueAt})
	}
	same(t, all, []due{
		{c1.ID, "email", utc(time.March, 29, 9)}, // 29 March 10:00, winter time
		{c3.ID, "email", utc(time.March, 29, 9)},
		{c4.ID, "email", utc(time.March, 30, 9)}, // 30 March 10:00, winter time
		{c1.ID, "sms", smsDue},                   // 31 March 10:00, summer time
		{c3.ID, "sms", smsDue},
		{c4.ID, "sms", utc(time.April, 1, 8)}, // 1 April 10:00, summer time
	}, "every reminder of the three issued coupons, at 10:00 Berlin time on either side of the clock change, ordered by due time then coupon id")
}
