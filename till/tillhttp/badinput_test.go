package tillhttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/sqlite"
	"github.com/couponkit/couponkit/till/tillhttp"
	"github.com/shopspring/decimal"
)

// central is an engine on a real store behind the keyed handler, on
// loopback: a series of 5 uses, till-1 and till-2 with a lease of 2 each,
// till-3 whose secret expired, and one batch of till-1 acknowledged.
type central struct {
	ctx  context.Context
	st   store.Store
	e    *couponkit.Engine
	s    series.Series
	srv  *httptest.Server
	l1   lease.Lease
	l2   lease.Lease
	code string
	sent couponkit.JournalBatch
	ack  couponkit.JournalAck
}

func newCentral(t *testing.T, st store.Store) *central {
	t.Helper()
	c := &central{ctx: context.Background(), st: st}
	e, err := couponkit.New(couponkit.Config{Store: st, Now: func() time.Time { return t0 },
		CodeKey: func(context.Context, string) ([]byte, error) { return []byte("test key"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	c.e = e
	c.s, err = e.CreateSeries(c.ctx, series.Series{Name: "s", TimeZone: "UTC",
		Source:     series.Source{Kind: series.Generated, Length: 8, Alphabet: series.Alphanumeric},
		Redemption: limits.RedemptionRules{MaxPerSeries: 5}, Expiry: series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(10), Currency: "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]tillhttp.Secret{
		"till-1": {Value: []byte("secret-1")}, "till-2": {Value: []byte("secret-2"), NotAfter: t0.Add(time.Hour)},
		"till-3": {Value: []byte("secret-3"), NotAfter: t0.Add(-time.Second)},
	}
	c.srv = httptest.NewServer(tillhttp.NewKeyedHandler(e, func(till string) (tillhttp.Secret, bool) { k, ok := keys[till]; return k, ok },
		func() time.Time { return t0 }))
	t.Cleanup(c.srv.Close)
	c.l1 = c.grant(t, "till-1")
	c.l2 = c.grant(t, "till-2")
	issued, err := e.Issue(c.ctx, couponkit.IssueRequest{SeriesID: c.s.ID, Customer: couponkit.ByID("alice")})
	if err != nil {
		t.Fatal(err)
	}
	c.code = issued.Coupon.Code
	c.sent = couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{{Key: "sale-1", LeaseID: c.l1.ID, Code: c.code, Customer: "alice", Bill: eur(50), At: t0}}}
	if c.ack, err = c.client("till-1", "secret-1").UploadJournal(c.ctx, c.sent); err != nil {
		t.Fatal(err)
	}
	return c
}

func eur(n int64) series.Money { return series.Money{Amount: decimal.NewFromInt(n), Currency: "EUR"} }

func (c *central) client(till, secret string) *tillhttp.Client {
	return &tillhttp.Client{BaseURL: c.srv.URL, Till: till, Secret: []byte(secret), Timeout: 2 * time.Second, Backoff: time.Millisecond}
}

func (c *central) grant(t *testing.T, till string) lease.Lease {
	t.Helper()
	r, err := c.client(till, "secret-"+till[len(till)-1:]).GrantLease(c.ctx, couponkit.LeaseRequest{Till: till, SeriesID: c.s.ID, Key: "g1", Uses: 2, End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return r.Lease
}

// state is everything a bad request could change: the series' counters,
// the leases, the recorded entries and the number of events.
type state struct {
	Counters couponkit.SeriesCounters
	Leases   []lease.Lease
	Entries  []lease.Entry
	Events   int
}

func (c *central) state(t *testing.T) state {
	t.Helper()
	var s state
	var err error
	if s.Counters, err = c.e.Counters(c.ctx, c.s.ID); err != nil {
		t.Fatal(err)
	}
	ls := c.st.(store.LeaseStore)
	if s.Leases, err = ls.Leases(c.ctx, store.LeaseQuery{}); err != nil {
		t.Fatal(err)
	}
	if s.Entries, err = ls.TillEntries(c.ctx, store.TillEntryQuery{}); err != nil {
		t.Fatal(err)
	}
	evs, err := c.st.Events(c.ctx, store.EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	s.Events = len(evs)
	return s
}

// raw sends body to path as till-1 and returns the error its answer
// carries, or an untyped one when the answer is not a 400 with an error
// body.
func (c *central) raw(method, path, body string) error {
	req, _ := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	req.Header.Set(tillhttp.HeaderTill, "till-1")
	req.Header.Set("Authorization", "Bearer secret-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b tillhttp.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		return fmt.Errorf("%s %s: status %d, body error %v; want 400 (413 for a body too large) with an error body", method, path, resp.StatusCode, err)
	}
	return &errcode.Error{Code: b.Error.Code, Field: b.Error.Field, Message: b.Error.Message}
}

// TestBadInputTypedNothingChanged sends each kind of bad request over
// real HTTP to a central on memstore and one on SQLite: each is refused
// with its typed error (or, for a batch sent again, answered with its
// first acknowledgement) and changes nothing.
func TestBadInputTypedNothingChanged(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"memstore": func(*testing.T) store.Store { return memstore.New() },
		"sqlite": func(t *testing.T) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "central.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			c := newCentral(t, open(t))
			one := c.client("till-1", "secret-1")
			for _, tc := range badCases(c, one) {
				before := c.state(t)
				err := tc.call()
				if !tc.want(err) {
					t.Errorf("%s: err = %v", tc.name, err)
				}
				if after := c.state(t); !reflect.DeepEqual(after, before) {
					t.Errorf("%s changed the central:\nbefore %+v\nafter  %+v", tc.name, before, after)
				}
			}
		})
	}
}

type badCase struct {
	name string
	call func() error
	want func(error) bool
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func badCases(c *central, one *tillhttp.Client) []badCase {
	t0Entry := func(key, leaseID string) couponkit.JournalBatch {
		return couponkit.JournalBatch{Till: "till-1", Entries: []couponkit.JournalEntry{{Key: key, LeaseID: leaseID, Code: c.code, Customer: "alice", Bill: eur(50), At: t0}}}
	}
	grant := couponkit.LeaseRequest{Till: "till-1", SeriesID: c.s.ID, Key: "g9", Uses: 2, End: t0.Add(time.Hour)}
	online := couponkit.TillRedeemRequest{Till: "till-2", Key: "o1", SeriesID: c.s.ID, Code: c.code, Customer: "alice", Bill: eur(50), At: t0}
	big := `{"till":"till-1","key":"` + strings.Repeat("x", tillhttp.MaxBody) + `"}`
	return []badCase{
		{"a forged secret", func() error { _, err := c.client("till-1", "secret-2").GrantLease(c.ctx, grant); return err }, is(tillhttp.ErrUnauthorized)},
		{"an expired secret", func() error {
			_, err := c.client("till-3", "secret-3").TillFeed(c.ctx, couponkit.TillFeedRequest{})
			return err
		}, is(tillhttp.ErrUnauthorized)},
		{"a journal entry for another till's lease", func() error { _, err := one.UploadJournal(c.ctx, t0Entry("sale-9", c.l2.ID)); return err }, is(errcode.ErrNotFound)},
		{"a replay of an acknowledged batch", func() error {
			ack, err := one.UploadJournal(c.ctx, c.sent)
			if err == nil && !reflect.DeepEqual(jsonOf(ack), jsonOf(c.ack)) {
				return errors.New("answered " + jsonOf(ack) + ", not the first acknowledgement " + jsonOf(c.ack))
			}
			return err
		}, func(err error) bool { return err == nil }},
		{"a lease past the remaining limit", func() error { _, err := one.GrantLease(c.ctx, grant); return err }, func(err error) bool {
			return errors.Is(err, errcode.ErrLimitReached) && strings.Contains(err.Error(), "1 uses left")
		}},
		{"bad JSON", func() error { return c.raw(http.MethodPost, "/v1/redeem", "{") }, is(errcode.ErrInvalidArgument)},
		{"an unknown field", func() error { return c.raw(http.MethodPost, "/v1/redeem", `{"till":"till-1","bogus":1}`) }, is(errcode.ErrInvalidArgument)},
		{"an oversized body", func() error { return c.raw(http.MethodPost, "/v1/journal", big) }, is(errcode.ErrInvalidArgument)},
		{"a negative feed limit", func() error {
			_, err := one.TillFeed(c.ctx, couponkit.TillFeedRequest{Limit: -1})
			return err
		}, is(errcode.ErrInvalidArgument)},
		{"a malformed feed position", func() error { return c.raw(http.MethodGet, "/v1/feed?after=x-1", "") }, is(errcode.ErrInvalidArgument)},
		{"an online redeem for another till", func() error { _, err := one.RedeemAtTill(c.ctx, online); return err }, is(tillhttp.ErrForbidden)},
		{"another till's series", func() error { _, err := c.client("till-1", "secret-1").Series(c.ctx, "no-such"); return err }, is(errcode.ErrNotFound)},
	}
}

func jsonOf(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}
