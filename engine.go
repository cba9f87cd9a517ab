package couponkit

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Config configures an Engine. Only Store is required.
type Config struct {
	// Store is where coupons live.
	Store store.Store
	// Now is the engine's clock; time.Now when nil. Tests and replays
	// pass a fake clock. An operation refuses to run while the clock tells
	// a time outside the years 1900 through 2199 (InvalidArgument on
	// "Config.Now").
	Now func() time.Time
	// Customers resolves customer identifiers; IDsOnly when nil. The ids
	// it resolves to obey the rules of customer identifiers (see Engine);
	// one that does not refuses the operation (InvalidArgument on
	// "Config.Customers").
	Customers CustomerDirectory
	// CodeKey returns the secret key of a series whose codes the engine
	// generates (generated unique and randomized common series). Keep it
	// secret and stable: the same key yields the same code sequence, and
	// anyone with it can enumerate the codes. Only making codes needs it
	// (issuing, reissuing and Generate for such series); reading, validating
	// and redeeming their codes, creating them and Counters do not, so an
	// engine that only reads codes (a till) goes without it.
	CodeKey func(ctx context.Context, seriesID string) ([]byte, error)
	// Rates converts bills in another currency; without it only bills in
	// the series' currency are accepted.
	Rates series.Rates
	// OnRemaining, when set, is called once when an issue brings a series'
	// remaining issuable count down to its Issuance.NotifyRemaining
	// threshold. It runs after the issue is stored, on the issuing
	// goroutine; it must not block for long.
	//
	// It is a convenience, and best effort: a process that dies between
	// the commit and the call never makes it, and an engine in
	// another process never sees it. The durable record is the feed's
	// IssuanceThreshold event, which the issue that reached the threshold
	// writes in its own atomic step (see Engine.EventsAfter and package
	// feed); send notifications from the feed.
	OnRemaining func(ctx context.Context, seriesID string, remaining int64)
	// NewID returns a fresh unique id for coupons, redemptions and events;
	// the engine's own generator when nil (a random per-engine prefix and a
	// counter). Its ids are stored as they are: valid UTF-8 without control
	// characters, at most 128 bytes.
	NewID func() string
	// MaxAttempts bounds how many times an operation is tried when a
	// concurrent change made its snapshot stale, or when the store refused
	// its transaction as a whole (a *store.ConflictError of Kind
	// "transaction": a serialization failure, a deadlock, a busy
	// database); 16 when zero. The engine is the one place that retries:
	// a store reports these and runs nothing again.
	MaxAttempts int
	// LeaseAllowance is the operator's policy of how many uses a till may
	// make offline unverified (of codes whose state it has not synced)
	// out of uses granted to it in a lease of series s: a grant sets the
	// lease's Allowance to it, a top-up adds it for the uses it adds. The
	// central records the uses past it all the same, flagged
	// (errcode.AllowanceExceeded). Nil means lease.DefaultAllowance (a
	// tenth of the uses, rounded up); a negative answer counts as 0.
	LeaseAllowance func(s *series.Series, uses int64) int64
	// JournalGroup is the most entries of a till's journal batch that
	// ApplyJournal records in one store change; 100 when zero. 1 records
	// each entry in a change of its own. The outcome is the same whatever
	// it is; a larger group makes fewer, longer transactions.
	JournalGroup int
	// Logger, when set, receives the engine's log: at level Debug each
	// retry of an operation (the conflict that caused it) and each
	// refusal (its codes); at Warn each operation that gave up retrying,
	// failed (the store, the context, conflicts that kept winning) or took
	// SlowOperation or longer; at Info each lease granted, renewed, topped
	// up, returned or reclaimed and each till journal applied, with its
	// counts. Coupon codes are logged masked (observe.Mask), never whole,
	// and the text of an error that carries codes of package errcode is
	// not logged, only its codes. Nil logs nothing and costs nothing.
	Logger *slog.Logger
	// SlowOperation is the latency from which an operation is logged as
	// slow; DefaultSlowOperation when zero. Only a Logger uses it.
	SlowOperation time.Duration
	// Observer, when set, is told of every operation of the engine and
	// every store call they make, with its outcome and latency (see
	// package observe): the store calls through observe.Store. Nil
	// observes nothing and costs nothing.
	Observer observe.Observer
}

// Engine runs couponkit's operations against a Store. Every operation reads a
// snapshot, decides with the rules of packages coupon, series and limits,
// and asks the store to apply the change atomically, guarded so that no
// limit is passed under any interleaving. An Engine is safe for concurrent
// use; any number of engines may share one store.
//
// Before it reads or writes the store, every operation checks the strings
// and times its caller gives, so that the same bad data gets the same
// answer on every store: strings are valid UTF-8 without control
// characters (C0, which includes NUL, tab and newline; DEL; C1) and at most
// 128 bytes for ids, codes and place ids, 256 for customer identifiers,
// idempotency keys, actors and series names, 64 for reminder channels and
// time zone names, and 1024 for reasons; times, where set, are in the
// years 1900 through 2199 (UTC). A failure is an *errcode.Error with code
// InvalidArgument naming the field ("Customer.ID", "Place.Till",
// "Rows[3].Code"), and nothing is read or changed. A series' own strings
// and times obey the same rules (series.Series.Validate). Expiries the
// engine computes never pass 1 January 2200.
type Engine struct {
	st          store.Store
	now         func() time.Time
	customers   CustomerDirectory
	codeKey     func(context.Context, string) ([]byte, error)
	rates       series.Rates
	onRemaining func(context.Context, string, int64)
	newID       func() string
	ids         *idGen // the default newID's generator; nil with Config.NewID
	attempts    int
	allowance   func(*series.Series, int64) int64
	group       int // Config.JournalGroup, defaulted
	minters     minterCache
	mintLocks   sync.Map    // series id -> mintLock; see lockMinting
	locs        sync.Map    // time zone name -> *time.Location
	seriesCache sync.Map    // series id -> *series.Series, read-only; see series
	budgets     atomic.Bool // a series with a budget was met: ReadCode reads budget counters too
	gaps        atomic.Bool // a series with a minimum gap was met: ReadCode reads the customer's series uses too
	changes     sync.Pool
	baskets     sync.Pool        // of *basketTx
	orig        store.Store      // Config.Store, which Store returns; st observes it
	log         *slog.Logger     // nil: no log
	slow        time.Duration    // Config.SlowOperation, defaulted
	obs         observe.Observer // nil: nothing observed
}

// New returns an engine over cfg.Store.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errcode.New(errcode.InvalidArgument, "Store", "an engine needs a store")
	}
	e := &Engine{
		st:          observe.Store(cfg.Store, cfg.Observer),
		orig:        cfg.Store,
		log:         cfg.Logger,
		slow:        cfg.SlowOperation,
		obs:         cfg.Observer,
		now:         cfg.Now,
		customers:   cfg.Customers,
		codeKey:     cfg.CodeKey,
		rates:       cfg.Rates,
		onRemaining: cfg.OnRemaining,
		newID:       cfg.NewID,
		attempts:    cfg.MaxAttempts,
		allowance:   cfg.LeaseAllowance,
		group:       cfg.JournalGroup,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.customers == nil {
		e.customers = IDsOnly{}
	}
	e.customers = checkedDirectory{e.customers}
	if e.newID == nil {
		g, err := newIDGen()
		if err != nil {
			return nil, err
		}
		e.newID, e.ids = g.next, g
	}
	if e.attempts <= 0 {
		e.attempts = 16
	}
	if e.group <= 0 {
		e.group = journalGroupMax
	}
	if e.slow <= 0 {
		e.slow = DefaultSlowOperation
	}
	return e, nil
}

// Store returns the engine's store, Config.Store (never the wrapper that
// reports its calls to Config.Observer).
func (e *Engine) Store() store.Store { return e.orig }

// retry runs attempt, which reads, decides and writes, until it succeeds,
// fails with an error that a fresh snapshot cannot fix, or has run
// e.attempts times. A stale snapshot shows as a conflict (a record
// changed) or a failed guard (a counter moved); both are worth another
// read and decision, and so is a transaction the store refused as a whole
// (a conflict of Kind "transaction"). On the last failed guard the next
// decision would deny, so a guard that keeps failing is reported as
// ErrLimitReached.
//
// A lost mint race (a conflict of Kind "sequence": another engine minted
// codes of the series first) does not use up an attempt until it has
// happened mintRaceFactor times e.attempts: each one means another engine
// made progress, and a goroutine of a busy engine may lose many such
// races in a row while its peers queue for the mint lock.
func (e *Engine) retry(ctx context.Context, attempt func() error) error {
	var err error
	lost := 0
	for i := 0; i < e.attempts; i++ {
		if err = attempt(); err == nil {
			return nil
		}
		if !errors.Is(err, errcode.ErrConflict) && !errors.Is(err, errcode.ErrGuardFailed) {
			return err
		}
		if lostSequence(err) && lost < mintRaceFactor*e.attempts {
			lost++
			i--
		}
		if e.log != nil && i+1 < e.attempts {
			e.logRetry(ctx, err, i)
		}
		if cerr := txBackoff(ctx, err, i); cerr != nil {
			return cerr
		}
	}
	if e.log != nil {
		e.logGaveUp(ctx, err, e.attempts)
	}
	if errors.Is(err, errcode.ErrGuardFailed) {
		return &errcode.Error{Code: errcode.LimitReached, Message: "a limit was reached concurrently", Err: err}
	}
	return err
}

// rerun runs write, a store call that decides nothing (a bulk insert or
// update, a series write), until it succeeds, fails otherwise than by a
// transaction the store refused as a whole (see txRefused), or has run
// e.attempts times. Such a call wrote nothing, so it is made again as it
// is.
func (e *Engine) rerun(ctx context.Context, write func() error) error {
	var err error
	for i := 0; i < e.attempts; i++ {
		if err = write(); err == nil || !txRefused(err) {
			return err
		}
		if e.log != nil && i+1 < e.attempts {
			e.logRetry(ctx, err, i)
		}
		if cerr := txBackoff(ctx, err, i); cerr != nil {
			return cerr
		}
	}
	if e.log != nil {
		e.logGaveUp(ctx, err, e.attempts)
	}
	return err
}

// mintRaceFactor is how many lost mint races, per attempt of the engine,
// retry makes before it counts them as failed attempts.
const mintRaceFactor = 16

// lostSequence reports whether err is a conflict of Kind "sequence":
// another engine advanced the series' code sequence first.
func lostSequence(err error) bool {
	var ce *store.ConflictError
	return errors.As(err, &ce) && ce.Kind == "sequence"
}

// txRefused reports whether err is a store's *store.ConflictError of Kind
// "transaction": the database refused the transaction as a whole (a
// serialization failure, a deadlock, a busy database) and nothing of it
// was written.
func txRefused(err error) bool {
	var ce *store.ConflictError
	return errors.As(err, &ce) && ce.Kind == "transaction"
}

// txBackoff returns ctx's error when it is done. After a transaction the
// store refused (txRefused), it first waits a little, longer after each
// attempt and with jitter, so that the transactions that collided do not
// collide again; after any other error it does not wait: a fresh read is
// what a stale snapshot needs.
func txBackoff(ctx context.Context, err error, attempt int) error {
	if !txRefused(err) {
		return ctx.Err()
	}
	d := time.Duration(1<<min(attempt, 6)) * 500 * time.Microsecond
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// changeBuf is a reusable Change with room for the common shapes, so that
// the hot paths do not allocate one per operation. Stores do not keep a
// Change after Apply (see store.Change).
type changeBuf struct {
	ch      store.Change
	coupons [2]store.CouponUpdate
	fresh   [1]coupon.Coupon
	reds    [1]coupon.Redemption
	bumps   [8]store.Bump
	events  [2]coupon.Event

	read readBuf
}

// readBuf holds what a redemption reads: memory handed to the store, which
// therefore cannot be on the stack.
type readBuf struct {
	found  [2]coupon.Coupon    // the coupons of the code
	keys   [6]store.CounterKey // the use's counters (useKeys), then the budgets' (budgetKeys)
	counts [6]store.Count
	reads  [2]store.CodeRead // what a store.CodeReader read of the code
	// counters are the counters a store.CodeReader reads (useCounters),
	// here so that passing them to the store does not allocate them.
	counters [6]store.CouponCounter
}

// getChange takes a changeBuf from the pool, or makes one.
func (e *Engine) getChange() *changeBuf {
	if b, ok := e.changes.Get().(*changeBuf); ok {
		return b
	}
	return new(changeBuf)
}

// putChange returns b to the pool. Only the Change is cleared: every user
// writes each array entry it puts in the Change or reads back, so stale
// entries are never seen, and clearing them all would cost more than a
// redemption's other writes together.
func (e *Engine) putChange(b *changeBuf) {
	b.ch = store.Change{}
	e.changes.Put(b)
}
