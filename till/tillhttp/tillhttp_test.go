package tillhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/till/tillhttp"
	"github.com/shopspring/decimal"
)

var t0 = time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)

type world struct {
	ctx     context.Context
	e       *couponkit.Engine
	s       series.Series
	srv     *httptest.Server
	handler http.Handler
}

// newWorld runs a central on memstore behind the handler, on loopback,
// with a series of 5 uses and two tills.
func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	e, err := couponkit.New(couponkit.Config{Store: memstore.New(), Now: func() time.Time { return t0 },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("test key"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.CreateSeries(ctx, series.Series{Name: "s", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{MaxPerSeries: 5}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{"till-1": []byte("secret-1"), "till-2": []byte("secret-2")}
	w := &world{ctx: ctx, e: e, s: s}
	w.handler = tillhttp.NewHandler(e, func(till string) ([]byte, bool) { b, ok := secrets[till]; return b, ok })
	w.srv = httptest.NewServer(w.handler)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) client(till, secret string) *tillhttp.Client {
	return &tillhttp.Client{BaseURL: w.srv.URL, Till: till, Secret: []byte(secret), Timeout: 2 * time.Second, Backoff: time.Millisecond}
}

func (w *world) uses(t *testing.T) int64 {
	t.Helper()
	c, err := w.e.Counters(w.ctx, w.s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Uses
}

func grantReq(w *world, till, key string, uses int64) couponkit.LeaseRequest {
	return couponkit.LeaseRequest{Till: till, SeriesID: w.s.ID, Key: key, Uses: uses, End: t0.Add(time.Hour)}
}

func TestLeaseAndJournalOverHTTP(t *testing.T) {
	w := newWorld(t)
	c := w.client("till-1", "secret-1")
	r, err := c.GrantLease(w.ctx, grantReq(w, "till-1", "g1", 3))
	if err != nil || r.Lease.Granted.Uses != 3 || r.Lease.Till != "till-1" {
		t.Fatalf("grant: %v, %+v", err, r)
	}
	again, err := c.GrantLease(w.ctx, grantReq(w, "till-1", "g1", 3))
	if err != nil || !again.Replayed || again.Lease.ID != r.Lease.ID {
		t.Fatalf("a repeated grant: %v, %+v", err, again)
	}
	if _, err := c.GrantLease(w.ctx, grantReq(w, "till-1", "g2", 3)); !errors.Is(err, errcode.ErrLimitReached) {
		t.Errorf("a grant past what the series has left: err = %v, want LimitReached", err)
	}
	issued, err := w.e.Issue(w.ctx, couponkit.IssueRequest{SeriesID: w.s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	batch := couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{{Key: "sale-1", LeaseID: r.Lease.ID,
		Code: issued.Coupon.Code, Customer: "alice", Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}, At: t0}}}
	ack, err := c.UploadJournal(w.ctx, batch)
	if err != nil || len(ack.Entries) != 1 || ack.Entries[0].Conflicted() || ack.Entries[0].RedemptionID == "" {
		t.Fatalf("upload: %v, %+v", err, ack)
	}
	replay, err := c.UploadJournal(w.ctx, batch)
	if err != nil || replay.Entries[0].RedemptionID != ack.Entries[0].RedemptionID {
		t.Fatalf("a replayed batch: %v, %+v", err, replay)
	}
	if n := w.uses(t); n != 3 {
		t.Errorf("series uses %d after a lease of 3 and its use reported twice, want 3", n)
	}
	s, err := c.Series(w.ctx, w.s.ID)
	if err != nil || s.ID != w.s.ID || s.Redemption.MaxPerSeries != 5 {
		t.Errorf("series config: %v, %+v", err, s)
	}
}

func TestBadInputOverHTTPChangesNothing(t *testing.T) {
	w := newWorld(t)
	l2, err := w.client("till-2", "secret-2").GrantLease(w.ctx, grantReq(w, "till-2", "g1", 2))
	if err != nil {
		t.Fatal(err)
	}
	before := w.uses(t)
	forged := w.client("till-1", "secret-2")
	if _, err := forged.GrantLease(w.ctx, grantReq(w, "till-1", "g1", 1)); !errors.Is(err, tillhttp.ErrUnauthorized) {
		t.Errorf("a forged secret: err = %v, want ErrUnauthorized", err)
	}
	if _, err := w.client("till-9", "x").Series(w.ctx, w.s.ID); !errors.Is(err, tillhttp.ErrUnauthorized) {
		t.Errorf("an unknown till: err = %v, want ErrUnauthorized", err)
	}
	c := w.client("till-1", "secret-1")
	if _, err := c.GrantLease(w.ctx, grantReq(w, "till-2", "g9", 1)); !errors.Is(err, tillhttp.ErrForbidden) {
		t.Errorf("a grant for another till: err = %v, want ErrForbidden", err)
	}
	call := couponkit.LeaseCall{Till: "till-1", LeaseID: l2.Lease.ID, Key: "r1", Uses: 1}
	if _, err := c.ReturnLease(w.ctx, call); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a return of another till's lease: err = %v, want NotFound", err)
	}
	batch := couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{{Key: "k", LeaseID: l2.Lease.ID, Code: "ABC", At: t0}}}
	if _, err := c.UploadJournal(w.ctx, batch); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a journal entry on another till's lease: err = %v, want NotFound", err)
	}
	for name, body := range map[string]string{"not json": "{", "unknown field": `{"till":"till-1","bogus":1}`, "two values": `{"till":"till-1"} {}`} {
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/v1/leases/grant", strings.NewReader(body))
		req.Header.Set(tillhttp.HeaderTill, "till-1")
		req.Header.Set("Authorization", "Bearer secret-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a malformed message (%s): status %d, want 400", name, resp.StatusCode)
		}
	}
	if n := w.uses(t); n != before {
		t.Errorf("bad input moved the series' uses from %d to %d", before, n)
	}
}

// TestRetriesSendTheSameKeys loses the central's first answer: the client
// sends the call again, and the central counts it once.
func TestRetriesSendTheSameKeys(t *testing.T) {
	w := newWorld(t)
	var calls atomic.Int32
	w.srv.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.handler.ServeHTTP(httptest.NewRecorder(), r) // applied, answer lost
			rw.WriteHeader(http.StatusBadGateway)
			return
		}
		w.handler.ServeHTTP(rw, r)
	})
	r, err := w.client("till-1", "secret-1").GrantLease(w.ctx, grantReq(w, "till-1", "g1", 2))
	if err != nil || !r.Replayed || calls.Load() != 2 {
		t.Fatalf("a grant whose first answer was lost: %v, %+v after %d calls", err, r, calls.Load())
	}
	if n := w.uses(t); n != 2 {
		t.Errorf("series uses %d, want the grant counted once (2)", n)
	}
}

// TestOnlineAndFeedOverHTTP: a till redeems online through the client,
// gets a refusal back as the *refusal.Error the engine gave, and reads its
// sync down.
func TestOnlineAndFeedOverHTTP(t *testing.T) {
	w := newWorld(t)
	c := w.client("till-1", "secret-1")
	l, err := c.GrantLease(w.ctx, grantReq(w, "till-1", "g1", 2))
	if err != nil || l.Remaining != 3 {
		t.Fatalf("grant: %v, %+v; want 3 uses left", err, l)
	}
	var codes []string
	for _, who := range []string{"alice", "bob"} {
		r, err := w.e.Issue(w.ctx, couponkit.IssueRequest{SeriesID: w.s.ID, Customer: couponkit.ByID(who)})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Coupon.Code)
	}
	req := couponkit.TillRedeemRequest{Till: "till-1", Key: "sale-1", SeriesID: w.s.ID, Code: codes[0], Customer: "alice",
		Bill: series.Money{Amount: decimal.NewFromInt(50), Currency: "EUR"}, At: t0}
	r, err := c.RedeemAtTill(w.ctx, req)
	if err != nil || r.Entry.LeaseID != l.Lease.ID || r.Redemption.Redemption.ID == "" {
		t.Fatalf("online use: %v, %+v", err, r)
	}
	req.Key = "sale-2"
	_, err = c.RedeemAtTill(w.ctx, req)
	var re *refusal.Error
	if !errors.As(err, &re) || !re.Has(errcode.Redeemed) {
		t.Errorf("a second use of the code online: err = %v, want a *refusal.Error with Redeemed", err)
	}
	page, err := c.TillFeed(w.ctx, couponkit.TillFeedRequest{})
	if err != nil || len(page.Events) != 3 || len(page.Series) != 1 {
		t.Fatalf("feed: %v, %d events, %d series; want the 2 issues and the redemption, and the series", err, len(page.Events), len(page.Series))
	}
	more, err := c.TillFeed(w.ctx, couponkit.TillFeedRequest{After: page.Next, Limit: 10})
	if err != nil || len(more.Events) != 0 || more.Next != page.Next {
		t.Errorf("feed from its end: %v, %+v", err, more)
	}
	if _, err := w.client("till-2", "secret-2").Series(w.ctx, w.s.ID); !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a series the till holds no lease of: err = %v, want NotFound", err)
	}
}
