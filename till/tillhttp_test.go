package till_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/till"
	"github.com/couponkit/couponkit/till/tillhttp"
)

var _ till.Central = (*tillhttp.Client)(nil)

// httpTill is till-1 talking to c's engine over HTTP through the handler
// wrap makes of the central's, synced once.
func httpTill(t *testing.T, c *central, wrap func(http.Handler) http.Handler) (*till.Till, *till.Journal) {
	t.Helper()
	h := tillhttp.NewHandler(c.e, func(string) ([]byte, bool) { return []byte("pw"), true })
	srv := httptest.NewServer(wrap(h))
	t.Cleanup(srv.Close)
	client := &tillhttp.Client{BaseURL: srv.URL, Till: "till-1", Secret: []byte("pw"), Backoff: time.Millisecond}
	ctx := context.Background()
	j, err := till.Open(ctx, openDB(t, filepath.Join(t.TempDir(), "till.db")), skew, till.WithTill("till-1"))
	if err != nil {
		t.Fatal(err)
	}
	tl, err := till.New(till.Config{ID: "till-1", Journal: j, Central: client, Deadline: 300 * time.Millisecond, Now: c.clock.Now,
		Series: []string{c.s.ID}, Size: func(lease.SizeInput) int64 { return 10 }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return tl, j
}

// onRedeem runs f for the online redemption route and h for the others.
func onRedeem(f func(h http.Handler, w http.ResponseWriter, r *http.Request)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/redeem" {
				f(h, w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// TestTillOverHTTP: over the HTTP binding, a till redeems online, takes
// the central's refusal as final, falls back to its journal when the
// central hangs past the deadline, and counts a sale whose answer was
// lost once.
func TestTillOverHTTP(t *testing.T) {
	ctx := context.Background()
	t.Run("online, refusals final", func(t *testing.T) {
		c := newCentral(t)
		tl, j := httpTill(t, c, func(h http.Handler) http.Handler { return h })
		r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
		if err != nil || !r.Online || r.Redemption.Redemption.ID == "" {
			t.Fatalf("online use: %+v, %v", r, err)
		}
		bob := c.issue(t, "bob")
		if _, err := tl.Redeem(ctx, c.sale("s2", bob, "alice"), nil); err == nil || till.Unanswered(err) {
			t.Fatalf("another's code over HTTP: %v, want the central's refusal", err)
		}
		if _, found, _ := j.Entry(ctx, "s2"); found {
			t.Fatal("a refused sale was journaled")
		}
	})
	t.Run("the central hangs", func(t *testing.T) {
		c := newCentral(t)
		release := make(chan struct{})
		tl, j := httpTill(t, c, onRedeem(func(_ http.Handler, _ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(func() { close(release) })
		start := time.Now()
		r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
		if err != nil || r.Online || !r.Entry.Verified {
			t.Fatalf("the sale while the central hangs: %+v, %v", r, err)
		}
		if waited := time.Since(start); waited > 3*time.Second {
			t.Errorf("the till waited %v", waited)
		}
		if p, _ := j.Pending(ctx, 0, 0); len(p) != 1 {
			t.Fatalf("pending: %+v", p)
		}
	})
	t.Run("the answer is lost", func(t *testing.T) {
		c := newCentral(t)
		tl, j := httpTill(t, c, onRedeem(func(h http.Handler, _ http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(httptest.NewRecorder(), r) // the central commits
			panic(http.ErrAbortHandler)            // and the answer never reaches the till
		}))
		r, err := tl.Redeem(ctx, c.sale("s1", c.code, "alice"), nil)
		if err != nil || r.Online {
			t.Fatalf("the sale after a lost answer: %+v, %v", r, err)
		}
		if n := c.uses(t, c.code); n != 1 {
			t.Fatalf("the central counted %d uses before the sync", n)
		}
		rep, err := tl.Sync(ctx)
		if err != nil || rep.Uploaded != 1 {
			t.Fatalf("sync: %+v, %v", rep, err)
		}
		if n := c.uses(t, c.code); n != 1 {
			t.Fatalf("the central counted the sale %d times", n)
		}
		recs, err := c.st.TillEntries(ctx, store.TillEntryQuery{Till: "till-1"})
		if err != nil || len(recs) != 1 {
			t.Fatalf("the central's records: %+v, %v", recs, err)
		}
		if p, _ := j.Pending(ctx, 0, 0); len(p) != 0 {
			t.Fatalf("pending: %+v", p)
		}
	})
}
