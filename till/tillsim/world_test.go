package tillsim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/store/sqlite"

	_ "modernc.org/sqlite"
)

// skew is the clock-skew allowance of tills and the central.
const skew = 2 * time.Minute

// t0 is when every run starts, on the central's clock.
var t0 = time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)

// customers are who redeem.
var customers = []string{"c1", "c2", "c3", "c4"}

// world is one run: the central, its series, the tills and the network.
type world struct {
	ctx context.Context
	t   *rapid.T
	dir string
	// now is the simulation's time: the central's clock.
	now    time.Time
	ids    int
	eng    *couponkit.Engine
	st     store.Store
	series []*simSeries
	tills  []*simTill
	net    network
	// central counts the redemptions made at the central, by series id.
	central map[string]int
	// closedAt is when each lease the central reclaimed was closed. A
	// closed lease's Updated is not that time: a conflicted use reported
	// later is still counted on its exposure (lease.Lease.Conflict).
	closedAt map[string]time.Time
	keys     int
	// violations are what the checks found, and bugs the run met on the way.
	violations  []string
	broken      tillMutant
	noReversals bool
	// delivering is set while a held message is delivered late.
	delivering bool
	// stats count what the run did, for the test's log.
	stats map[string]int
}

// simSeries is one series and the codes the run redeems.
type simSeries struct {
	id    string
	kind  string
	codes []string
	// owner is the customer a personal code was issued to.
	owner map[string]string
}

// config is what a run is built with.
type config struct {
	// wrap, when set, wraps the central's store (the mutants).
	wrap func(store.Store) store.Store
	// sqlite puts the central on the SQLite store.
	sqlite bool
	// broken, when set, makes every till break the protocol that way
	// (the till mutants).
	broken tillMutant
	// noReversals leaves reversals out of the schedule (for a mutant
	// central that would refuse them for another reason than the one it
	// shows).
	noReversals bool
}

// uploading marks the context of the central's handling of a journal
// upload (for the mutant centrals).
type uploading struct{}

// tillMutant is a way a till may break the protocol.
type tillMutant uint8

const (
	// keepsStaleAnswers: a lease's answer that arrives late replaces a
	// newer one.
	keepsStaleAnswers tillMutant = iota + 1
	// spendsReturnsInDoubt: a return is not reserved while its answer
	// is in doubt.
	spendsReturnsInDoubt
	// marksLostUploadsSynced: an upload that got no answer is marked
	// synced.
	marksLostUploadsSynced
)

// newWorld builds a run's central, series and tills in a fresh directory
// under base.
func newWorld(t *rapid.T, base string, cfg config) *world {
	dir, err := os.MkdirTemp(base, "run")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: context.Background(), t: t, dir: dir, now: t0, broken: cfg.broken, noReversals: cfg.noReversals, central: map[string]int{}, closedAt: map[string]time.Time{}, stats: map[string]int{}}
	w.st = w.centralStore(cfg)
	eng, err := couponkit.New(couponkit.Config{Store: w.st, Now: func() time.Time { return w.now }, NewID: w.newID})
	if err != nil {
		t.Fatal(err)
	}
	w.eng = eng
	w.makeSeries()
	n := rapid.IntRange(3, 8).Draw(t, "tills")
	for i := range n {
		w.tills = append(w.tills, w.newTill(fmt.Sprintf("till-%d", i+1)))
	}
	// Most tills start the day with a lease, asked while the network is up.
	w.net.healed = true
	for _, tl := range w.tills {
		switch {
		case tl.lib != nil:
			w.libSync(tl)
		case rapidInt(w, "starts with a lease", 0, 3) > 0:
			w.grant(tl)
		}
	}
	w.net.healed = false
	return w
}

// centralStore opens the central's store.
func (w *world) centralStore(cfg config) store.Store {
	var st store.Store = memstore.New()
	if cfg.sqlite {
		s, err := sqlite.Open(w.ctx, filepath.Join(w.dir, "central.db"))
		if err != nil {
			w.t.Fatal(err)
		}
		if err := s.Migrate(w.ctx); err != nil {
			w.t.Fatal(err)
		}
		st = s
	}
	if cfg.wrap != nil {
		st = cfg.wrap(st)
	}
	return st
}

func (w *world) newID() string {
	w.ids++
	return fmt.Sprintf("id%06d", w.ids)
}

// key returns a fresh idempotency key with the given prefix.
func (w *world) key(prefix string) string {
	w.keys++
	return fmt.Sprintf("%s-%d", prefix, w.keys)
}

// close closes every database of the run and removes its directory.
func (w *world) close() {
	for _, tl := range w.tills {
		if tl.db != nil {
			tl.db.Close()
		}
	}
	if c, ok := w.st.(interface{ Close() error }); ok {
		c.Close()
	}
	os.RemoveAll(w.dir)
}

// violation records a broken guarantee.
func (w *world) violation(format string, args ...any) {
	w.violations = append(w.violations, fmt.Sprintf(format, args...))
}

// baseSeries is a series with no rule but those the run sets.
func baseSeries(name string, src series.Source, r limits.RedemptionRules) series.Series {
	return series.Series{Name: name, TimeZone: "UTC", Source: src, Redemption: r,
		Expiry:   series.Expiry{Kind: series.Never},
		Discount: series.Discount{Kind: series.Fixed, Amount: decimal.NewFromInt(5), Currency: "EUR"}}
}

// makeSeries creates the run's three series, their limits drawn.
func (w *world) makeSeries() {
	lim := func(name string, lo, hi int) limits.Limit {
		return limits.Limit(rapid.IntRange(lo, hi).Draw(w.t, name))
	}
	common := baseSeries("common", series.Source{Kind: series.Common, Code: "SAVE5"}, limits.RedemptionRules{
		AnyoneMayRedeem: true, Repeat: true, MaxPerCustomer: lim("common customer level", 1, 3), MaxPerSeries: lim("common limit", 3, 16)})
	flash := baseSeries("flash", series.Source{Kind: series.Uploaded}, limits.RedemptionRules{
		AnyoneMayRedeem: true, Repeat: true, MaxPerCode: lim("flash code level", 1, 6), MaxPerSeries: lim("flash limit", 3, 16)})
	w.drawBudget(&common, "common")
	w.drawBudget(&flash, "flash")
	personal := baseSeries("personal", series.Source{Kind: series.Uploaded}, limits.RedemptionRules{
		MaxPerSeries: lim("personal limit", 1, 5)})
	w.series = []*simSeries{
		w.create(common, "common", []string{"SAVE5"}),
		w.create(flash, "flash", []string{"F1X", "F2X"}),
		w.create(personal, "personal", nil),
	}
	for _, c := range customers[:3] {
		if _, err := w.eng.Issue(w.ctx, couponkit.IssueRequest{SeriesID: w.series[0].id, Customer: couponkit.ByID(c)}); err != nil {
			w.t.Fatalf("setup: Issue: %v", err)
		}
	}
	w.upload(w.series[1].id, []couponkit.UploadRow{{Code: "F1X", Customer: couponkit.ByID("c1")}, {Code: "F2X", Customer: couponkit.ByID("c2")}})
	p := w.series[2]
	p.owner = map[string]string{}
	rows := make([]couponkit.UploadRow, 0, len(customers))
	for i, c := range customers {
		code := fmt.Sprintf("P%dX", i+1)
		p.codes = append(p.codes, code)
		p.owner[code] = c
		rows = append(rows, couponkit.UploadRow{Code: code, Customer: couponkit.ByID(c)})
	}
	w.upload(p.id, rows)
}

func (w *world) upload(id string, rows []couponkit.UploadRow) {
	res, err := w.eng.Upload(w.ctx, couponkit.UploadRequest{SeriesID: id, Rows: rows, Actor: "op"})
	if err != nil || len(res.Failed) > 0 {
		w.t.Fatalf("setup: upload: %+v, %v", res, err)
	}
}

func (w *world) create(s series.Series, kind string, codes []string) *simSeries {
	out, err := w.eng.CreateSeries(w.ctx, s)
	if err != nil {
		w.t.Fatalf("setup: CreateSeries(%s): %v", s.Name, err)
	}
	return &simSeries{id: out.ID, kind: kind, codes: codes}
}

// leaseStore is the central's store as a store.LeaseStore.
func (w *world) leaseStore() store.LeaseStore {
	return w.st.(store.LeaseStore)
}
