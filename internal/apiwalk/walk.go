// Package apiwalk walks every route of package httpapi with real requests
// over HTTP, checking each answer: the end-to-end test of every store and
// the OpenAPI validation test (module httpapi/apitest) run it.
package apiwalk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/httpapi"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/till/tillhttp"
)

// OffContract marks a request the walk sends outside the OpenAPI
// document on purpose (an unknown route, a missing credential), to see it
// refused: a validator does not hold such a request to the document.
const OffContract = "Walk-Off-Contract"

// The till the walk's server knows.
const (
	Till       = "till-1"
	TillSecret = "till-1-secret"
)

// Handler returns httpapi's handler over an engine on st, with the
// customers and the till the walk uses.
func Handler(t testing.TB, st store.Store) http.Handler {
	t.Helper()
	dir := &couponkit.MemDirectory{}
	for _, id := range []string{"alice", "bob", "carol", "dave", "erin", "mallory"} {
		dir.Add(couponkit.CustomerRecord{Customer: couponkit.Customer{ID: id}, Mobile: "555-" + id})
	}
	e, err := couponkit.New(couponkit.Config{
		Store:     st,
		Customers: dir,
		CodeKey: func(context.Context, string) ([]byte, error) {
			return []byte("the walk's code key, not a secret"), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.New(e, httpapi.Options{
		Actor: "walk",
		TillKeys: func(till string) (tillhttp.Secret, bool) {
			return tillhttp.Secret{Value: []byte(TillSecret)}, till == Till
		},
	})
}

func eur(s string) series.Money {
	return series.Money{Amount: decimal.RequireFromString(s), Currency: "EUR"}
}

// tenOff is a transferable series of generated codes worth 10 EUR on bills
// of 50 EUR or more, one per customer, redeemable at store S1 only.
func tenOff() series.Series {
	return series.Series{
		Name:         "10 EUR off",
		TimeZone:     "Europe/Berlin",
		Source:       series.Source{Kind: series.Generated, Length: 8, Alphabet: series.ConfusionFree, CheckChar: true},
		Issuance:     series.Issuance{IssuanceRules: limits.IssuanceRules{MaxPerCustomer: 1}},
		Redemption:   limits.RedemptionRules{MinBill: decimal.NewNullDecimal(decimal.NewFromInt(50)), Places: limits.NewPlaceSet(limits.PlaceRef{Kind: limits.Store, ID: "S1"})},
		Transferable: true,
		Expiry:       series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount:     series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"},
	}
}

// uploaded is a series of uploaded codes.
func uploaded() series.Series {
	return series.Series{
		Name:     "uploaded",
		TimeZone: "UTC",
		Source:   series.Source{Kind: series.Uploaded},
		Expiry:   series.Expiry{Kind: series.DaysFromIssue, N: 30},
		Discount: series.Discount{Kind: series.Percent, Percent: decimal.NewFromInt(5), Currency: "EUR"},
	}
}

// walker is one walk: the client and what earlier steps made.
type walker struct {
	t                           testing.TB
	c                           *client
	base                        string
	hc                          *http.Client
	s, up                       series.Series
	alice, bob, carol, reissued string
}

// Run walks every route of the server at base (httpapi's handler from
// Handler, over an empty store), sending with hc.
func Run(t testing.TB, base string, hc *http.Client) {
	w := &walker{t: t, c: &client{t: t, base: base, hc: hc}, base: base, hc: hc}
	w.series()
	w.issue()
	w.use()
	w.change()
	w.queries()
	w.feed()
	w.till()
	w.returns()
}

// req is a redemption request at store S1.
func (w *walker) req(code, customer, key, bill string) couponkit.RedeemRequest {
	return couponkit.RedeemRequest{Code: code, Customer: couponkit.ByID(customer), IdempotencyKey: key, Bill: eur(bill), Place: limits.Place{Store: "S1", Till: "T1"}}
}

// series creates, reads, updates and lists series.
func (w *walker) series() {
	t, c := w.t, w.c
	status, raw := c.do("GET", "/v1/openapi.yaml", nil)
	if status != 200 || !bytes.HasPrefix(raw, []byte("openapi: 3.1")) {
		t.Fatalf("GET /v1/openapi.yaml: %d %.40s", status, raw)
	}

	// Series.
	c.ok(201, &w.s, "POST", "/v1/series", tenOff())
	c.ok(201, &w.up, "POST", "/v1/series", uploaded())
	s := &w.s
	var got series.Series
	c.ok(200, &got, "GET", "/v1/series/"+s.ID, nil)
	if got.ID != s.ID || got.Name != "10 EUR off" {
		t.Fatalf("GET series: %+v", got)
	}
	s.Name = "10 EUR off, renamed"
	c.ok(200, &got, "PUT", "/v1/series/"+s.ID, s)
	if got.Name != s.Name {
		t.Errorf("PUT series: name %q", got.Name)
	}
	c.fail(404, errcode.NotFound, "GET", "/v1/series/no-such-series", nil)
	var list httpapi.SeriesList
	c.ok(200, &list, "GET", "/v1/series", nil)
	if len(list.Series) != 2 {
		t.Errorf("GET /v1/series: %d series, want 2", len(list.Series))
	}
	c.ok(200, &list, "GET", "/v1/series?store=S1", nil)
	if len(list.Series) != 1 || list.Series[0].ID != s.ID {
		t.Errorf("GET /v1/series?store=S1: %+v, want the one series of S1", list.Series)
	}
	c.fail(400, errcode.InvalidArgument, "GET", "/v1/series?store=S1&till=T1", nil)
}

// issue issues one by one and in a batch.
func (w *walker) issue() {
	t, c := w.t, w.c
	s := &w.s
	// Issue: one by one with the header's key, a replay, a key used for
	// another customer, and a batch.
	var alice couponkit.IssueResult
	issue := couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("alice")}
	c.ok(200, &alice, "POST", "/v1/issue", issue, httpapi.HeaderIdempotencyKey, "crm-1")
	var again couponkit.IssueResult
	c.ok(200, &again, "POST", "/v1/issue", issue, httpapi.HeaderIdempotencyKey, "crm-1")
	if !again.Replayed || again.Coupon.Code != alice.Coupon.Code {
		t.Errorf("issue again with the same key: %+v, want the first coupon replayed", again)
	}
	c.fail(409, errcode.KeyMismatch, "POST", "/v1/issue", couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("erin")}, httpapi.HeaderIdempotencyKey, "crm-1")
	keyed := issue
	keyed.IdempotencyKey = "crm-2"
	c.fail(400, errcode.InvalidArgument, "POST", "/v1/issue", keyed, httpapi.HeaderIdempotencyKey, "crm-3")
	var batch httpapi.IssueBatchResult
	c.ok(200, &batch, "POST", "/v1/issue/batch", httpapi.IssueBatchRequest{Requests: []couponkit.IssueRequest{
		{SeriesID: s.ID, Customer: couponkit.ByID("bob")},
		{SeriesID: s.ID, Customer: couponkit.ByID("carol")},
		{SeriesID: s.ID, Customer: couponkit.ByID("bob")}, // a second for bob: over the maximum
	}})
	if len(batch.Outcomes) != 3 || batch.Outcomes[0].Result == nil || batch.Outcomes[1].Result == nil ||
		batch.Outcomes[2].Error == nil || len(batch.Outcomes[2].Error.Refusals) == 0 {
		t.Fatalf("batch: %+v", batch)
	}
	w.alice, w.bob, w.carol = alice.Coupon.Code, batch.Outcomes[0].Result.Coupon.Code, batch.Outcomes[1].Result.Coupon.Code
}

// use validates, redeems and reverses.
func (w *walker) use() {
	t, c := w.t, w.c
	s, use := &w.s, w.req
	aliceCode, bobCode := w.alice, w.bob
	// Validate: a bill below the minimum is refused with its figures.
	low := use(aliceCode, "alice", "", "20")
	b := c.fail(422, 0, "POST", "/v1/coupons/"+aliceCode+"/validate", low)
	if len(b.Refusals) != 1 || b.Refusals[0].Rule != "min_bill" || b.Refusals[0].Params.MinBill == nil {
		t.Errorf("validate a low bill: %+v, want one min_bill refusal with the minimum", b)
	}
	var check couponkit.Check
	c.ok(200, &check, "POST", "/v1/coupons/"+aliceCode+"/validate", use("", "alice", "", "64.90"))
	if !check.Discount.Amount.Equal(decimal.NewFromInt(10)) {
		t.Errorf("validate: discount %v", check.Discount)
	}
	c.fail(400, errcode.InvalidArgument, "POST", "/v1/coupons/"+aliceCode+"/validate", use(bobCode, "alice", "", "64.90"))

	// Redeem, replay, mismatch; a stranger's code looks unknown.
	var red couponkit.RedeemResult
	c.ok(200, &red, "POST", "/v1/coupons/"+aliceCode+"/redeem", use("", "alice", "", "64.90"), httpapi.HeaderIdempotencyKey, "pos-1")
	if red.Coupon.State != coupon.Redeemed || red.Replayed {
		t.Errorf("redeem: %+v", red)
	}
	c.ok(200, &red, "POST", "/v1/coupons/"+aliceCode+"/redeem", use("", "alice", "pos-1", "64.90"))
	if !red.Replayed {
		t.Errorf("redeem again: not replayed")
	}
	c.fail(409, errcode.KeyMismatch, "POST", "/v1/coupons/"+aliceCode+"/redeem", use("", "alice", "pos-1", "99.00"))
	c.fail(422, errcode.Redeemed, "POST", "/v1/coupons/"+aliceCode+"/redeem", use("", "alice", "pos-2", "64.90"))
	stranger := c.fail(404, 0, "POST", "/v1/coupons/"+bobCode+"/redeem", use("", "mallory", "pos-3", "64.90"))
	unknown := c.fail(404, 0, "POST", "/v1/coupons/NOSUCHCODE/redeem", use("", "mallory", "pos-4", "64.90"))
	if stranger.Code != unknown.Code || stranger.Name != unknown.Name {
		t.Errorf("a stranger's code %+v and an unknown one %+v answer differently", stranger, unknown)
	}
	c.fail(400, errcode.InvalidArgument, "POST", "/v1/coupons/"+aliceCode+"/redeem", use("", "alice", "", "64.90"))

	// Reverse the redemption by its key.
	var rev couponkit.RedeemResult
	c.ok(200, &rev, "POST", "/v1/redemptions/reverse", couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: aliceCode, SeriesID: s.ID, IdempotencyKey: "pos-1"}, Reason: "returned"})
	if rev.Coupon.State != coupon.Issued {
		t.Errorf("reverse: state %v, want issued", rev.Coupon.State)
	}
	c.fail(422, errcode.AlreadyReversed, "POST", "/v1/redemptions/reverse", couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: aliceCode, SeriesID: s.ID, IdempotencyKey: "pos-1"}})
}

// change holds, confirms, releases, transfers, revokes and reissues.
func (w *walker) change() {
	t, c := w.t, w.c
	s, use := &w.s, w.req
	bobCode, carolCode := w.bob, w.carol
	var red couponkit.RedeemResult
	// Hold and confirm; hold and release; a released hold says so.
	hold := httpapi.HoldRequest{RedeemRequest: use("", "bob", "cart-1", "80"), TTL: "15m"}
	var held couponkit.RedeemResult
	c.ok(200, &held, "POST", "/v1/coupons/"+bobCode+"/hold", hold)
	c.ok(200, &red, "POST", "/v1/holds/confirm", couponkit.ConfirmRequest{Hold: couponkit.UseRef{Code: bobCode, SeriesID: s.ID}}, httpapi.HeaderIdempotencyKey, "cart-1")
	if red.Coupon.State != coupon.Redeemed {
		t.Errorf("confirm: state %v", red.Coupon.State)
	}
	c.ok(200, &held, "POST", "/v1/coupons/"+carolCode+"/hold", httpapi.HoldRequest{RedeemRequest: use("", "carol", "cart-2", "80"), TTL: "15m"})
	c.ok(204, nil, "POST", "/v1/holds/release", couponkit.ReleaseRequest{Hold: couponkit.UseRef{Code: carolCode, SeriesID: s.ID, IdempotencyKey: "cart-2"}})
	c.fail(422, errcode.HoldReleased, "POST", "/v1/holds/confirm", couponkit.ConfirmRequest{Hold: couponkit.UseRef{Code: carolCode, SeriesID: s.ID, IdempotencyKey: "cart-2"}})
	c.fail(400, errcode.InvalidArgument, "POST", "/v1/coupons/"+carolCode+"/hold", httpapi.HoldRequest{RedeemRequest: use("", "carol", "cart-3", "80"), TTL: "soon"})

	// Transfer carol's coupon to dave.
	var moved coupon.Coupon
	c.ok(200, &moved, "POST", "/v1/coupons/"+carolCode+"/transfer", couponkit.TransferRequest{From: couponkit.ByID("carol"), To: couponkit.ByID("dave")})
	if moved.Holder != "dave" {
		t.Errorf("transfer: holder %q", moved.Holder)
	}

	// Revoke dave's coupon with the revoke API, then reissue it.
	var rv struct {
		Entity struct {
			TotalCount     int `json:"totalCount"`
			RevokedCoupons []struct {
				CouponCode string `json:"couponCode"`
			} `json:"revokedCoupons"`
		} `json:"entity"`
		Success bool `json:"success"`
	}
	c.ok(200, &rv, "POST", httpapi.RevokePath, map[string]any{"couponSeriesId": s.ID, "couponCodes": []string{carolCode}})
	if !rv.Success || rv.Entity.TotalCount != 1 || len(rv.Entity.RevokedCoupons) != 1 {
		t.Errorf("revoke: %+v", rv)
	}
	var nothing map[string]any
	c.ok(200, &nothing, "POST", httpapi.RevokePath, `{}`)
	if nothing["success"] != false || !strings.Contains(fmt.Sprint(nothing["errors"]), "756") {
		t.Errorf("revoke nothing: %v, want error 756", nothing)
	}
	var re couponkit.ReissueResult
	c.ok(200, &re, "POST", "/v1/coupons/"+carolCode+"/reissue", couponkit.ReissueRequest{SeriesID: s.ID, Notify: true})
	if re.New.Holder != "dave" || re.New.Code == carolCode {
		t.Errorf("reissue: %+v", re)
	}
	w.reissued = re.New.Code
	c.fail(422, errcode.AlreadyReissued, "POST", "/v1/coupons/"+carolCode+"/reissue", couponkit.ReissueRequest{SeriesID: s.ID})
}

// queries reads coupons, histories and counters, uploads a file and pauses the series.
func (w *walker) queries() {
	t, c := w.t, w.c
	s, up, aliceCode := &w.s, &w.up, w.alice
	var got series.Series
	var list httpapi.SeriesList
	// Queries.
	var det couponkit.CouponDetails
	c.ok(200, &det, "GET", "/v1/coupons/"+aliceCode+"?series_id="+s.ID, nil)
	if det.Holder != "alice" || len(det.Uses) != 1 {
		t.Errorf("coupon details: holder %q, %d uses", det.Holder, len(det.Uses))
	}
	var evs httpapi.Events
	c.ok(200, &evs, "GET", "/v1/coupons/"+aliceCode+"/history", nil)
	if len(evs.Events) < 3 {
		t.Errorf("coupon history: %d events, want issue, redeem, reverse", len(evs.Events))
	}
	var cs httpapi.Coupons
	c.ok(200, &cs, "GET", "/v1/customers/dave/coupons?series_id="+s.ID, nil)
	if len(cs.Coupons) != 1 || cs.Coupons[0].Code != w.reissued {
		t.Errorf("dave's coupons: %+v", cs.Coupons)
	}
	c.ok(200, &evs, "GET", "/v1/customers/carol/history", nil)
	if len(evs.Events) < 2 {
		t.Errorf("carol's history: %d events", len(evs.Events))
	}
	var cnt couponkit.SeriesCounters
	c.ok(200, &cnt, "GET", "/v1/series/"+s.ID+"/counters", nil)
	if cnt.Issued != 3 || cnt.Uses != 1 || cnt.LiveCodes != 4 {
		t.Errorf("counters: %+v, want 3 issued (alice, bob, carol), 1 use, 4 codes (and the reissue's)", cnt)
	}

	// Upload a CSV file: one row issued, one code to the pool, a bad row.
	var rep httpapi.UploadReport
	c.ok(200, &rep, "POST", "/v1/series/"+up.ID+"/upload?file_id=f1", csvBody("code,customer_id\nUP-1,erin\nUP-2,\nUP-3,nobody-known\n"))
	if rep.Added != 3 || rep.Applied != 2 || rep.Rejected != 1 || len(rep.Rejections) != 1 || rep.Rejections[0].Row != 3 {
		t.Errorf("upload: %+v", rep)
	}
	c.fail(400, errcode.BadFile, "POST", "/v1/series/"+up.ID+"/upload", csvBody("nonsense\n1\n"))

	// Status: a paused series issues nothing.
	c.ok(200, &got, "PUT", "/v1/series/"+s.ID+"/status", map[string]string{"status": "paused"})
	if got.Status != series.Paused {
		t.Errorf("status: %v", got.Status)
	}
	c.fail(422, errcode.SeriesPaused, "POST", "/v1/issue", couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID("erin")})
	c.ok(200, &list, "GET", "/v1/series?status=paused", nil)
	if len(list.Series) != 1 {
		t.Errorf("paused series: %d", len(list.Series))
	}
}

// feed reads the feed page by page.
func (w *walker) feed() {
	t, c := w.t, w.c
	// The feed, page by page, holds every event once, in order. A
	// PostgreSQL feed shows a transaction's events once every older
	// transaction on the server has ended (other tests' may still run):
	// read it again until it shows them, for a while.
	var seen map[string]bool
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		seen = map[string]bool{}
		after := ""
		for pages := 0; ; pages++ {
			var page httpapi.FeedPage
			c.ok(200, &page, "GET", "/v1/feed?limit=4&after="+after, nil)
			if len(page.Events) == 0 {
				break
			}
			for _, fe := range page.Events {
				if seen[fe.Event.ID] {
					t.Fatalf("feed: event %s twice", fe.Event.ID)
				}
				seen[fe.Event.ID] = true
			}
			after = page.Next.String()
			if pages > 1000 {
				t.Fatal("feed: no end")
			}
		}
		if len(seen) >= 15 || time.Now().After(deadline) {
			break
		}
	}
	if len(seen) < 15 {
		t.Errorf("feed: %d events", len(seen))
	}
	c.fail(400, errcode.InvalidArgument, "GET", "/v1/feed?after=nonsense", nil)
	c.fail(400, 0, "GET", "/v1/feed?after=999999999999-999999", nil) // past the end, or not this store's
}

// till calls the till protocol and routes that do not exist.
func (w *walker) till() {
	t, c := w.t, w.c
	s, up, base, hc := &w.s, &w.up, w.base, w.hc
	// The till protocol, mounted under /till.
	c.fail(401, 0, "GET", "/till/v1/series/"+s.ID, nil, OffContract, "missing credentials")
	tc := &tillhttp.Client{BaseURL: base + "/till", Till: Till, Secret: []byte(TillSecret), HTTP: hc, Retries: -1}
	if _, err := tc.Series(context.Background(), s.ID); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("till: a series the till holds no lease of: %v, want not found", err)
	}
	if _, err := tc.TillFeed(context.Background(), couponkit.TillFeedRequest{}); err != nil {
		t.Errorf("till feed: %v", err)
	}
	ctx := context.Background()
	end := time.Now().Add(time.Hour).Truncate(time.Second)
	lr, err := tc.GrantLease(ctx, couponkit.LeaseRequest{Till: Till, SeriesID: up.ID, Key: "g1", Uses: 2, End: end})
	if err != nil {
		t.Fatalf("till: grant: %v", err)
	}
	lease := lr.Lease.ID
	typed := func(what string, err error) {
		if err != nil && errcode.CodeOf(err) == 0 {
			t.Errorf("till: %s: untyped error %v", what, err)
		}
	}
	_, err = tc.RenewLease(ctx, couponkit.LeaseCall{Till: Till, LeaseID: lease, Key: "r1", End: end.Add(time.Hour)})
	typed("renew", err)
	_, err = tc.TopUpLease(ctx, couponkit.LeaseCall{Till: Till, LeaseID: lease, Key: "t1", Uses: 1})
	typed("top up", err)
	_, err = tc.RedeemAtTill(ctx, couponkit.TillRedeemRequest{Till: Till, Key: "o1", SeriesID: up.ID, Code: "UP-1", Customer: "erin", Bill: eur("10"), At: time.Now()})
	typed("online redeem", err)
	_, err = tc.UploadJournal(ctx, couponkit.JournalBatch{Till: Till, Entries: []couponkit.JournalEntry{}})
	typed("journal", err)
	_, err = tc.ReturnLease(ctx, couponkit.LeaseCall{Till: Till, LeaseID: lease, Key: "x1"})
	typed("return", err)

	// Unknown routes and methods answer the envelope.
	c.fail(404, 0, "GET", "/v1/nothing-here", nil, OffContract, "unknown route")
	c.fail(405, 0, "DELETE", "/v1/series/"+s.ID, nil, OffContract, "unknown method")
}
