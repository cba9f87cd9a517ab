package storetest

import (
	"testing"

	"github.com/couponkit/couponkit/store"
)

// Sizes sets how much work the expensive parts of the suite do: how many
// goroutines race and for how many rounds, and how many random sequences
// the rapid tests draw and how long they are. The zero value asks for the
// default sizes, which suit an in-memory store; a slower backend lowers
// them rather than skip a tier. Every field is an explicit knob: the suite
// never guesses from a store's name.
type Sizes struct {
	// Goroutines is how many goroutines race in each race: those of
	// RunRaces and the guard race of RunContract. Zero means 64. A backend
	// with a small connection pool may lower it, but keep it well above
	// the limits being raced at (the races use limits of 1 to 7), or the
	// races prove little.
	Goroutines int
	// RaceRounds is how many times each race is repeated, each round on a
	// fresh series. Zero means 20, enough for an in-memory store to hit the
	// interleavings that matter; a SQL store over the network may pass 3
	// to 5.
	RaceRounds int
	// RapidChecks is how many random sequences the model test of RunModel
	// and the code-sequence property of RunEngine draw; zero means rapid's
	// default (100, or the -rapid.checks flag) for the model test and 100
	// for the property. An explicit -rapid.checks flag or RAPID_CHECKS
	// environment variable wins over this field.
	RapidChecks int
	// RapidSteps is the average number of operations in one sequence of
	// the model test; zero means 100 (rapid's own default of 30 is short
	// for fourteen kinds of operation). An explicit -rapid.steps flag or
	// RAPID_STEPS wins over this field. The model test compares the whole
	// stored state after every step, about 25 store reads, so a SQL store
	// over the network may pass RapidChecks 20 and RapidSteps 50.
	RapidSteps int
	// Short scales the expensive parts down as go test -short does: the
	// races run a quarter of their rounds (at least one) with at most 16
	// goroutines, the model test a fifth of its checks and the rapid
	// properties of RunEngine 20 checks. The suite also scales down when
	// testing.Short() is true.
	Short bool
}

// withDefaults fills in the zero fields.
func (c Sizes) withDefaults() Sizes {
	if c.Goroutines <= 0 {
		c.Goroutines = 64
	}
	if c.RaceRounds <= 0 {
		c.RaceRounds = 20
	}
	if c.RapidSteps <= 0 {
		c.RapidSteps = 100
	}
	if c.Short || testing.Short() {
		c.Short = true
		c.RaceRounds = max(1, c.RaceRounds/4)
		c.Goroutines = min(c.Goroutines, 16)
	}
	return c
}

// Run runs the whole suite against the stores newStore makes: the five
// tiers RunContract, RunEngine, RunFeed, RunModel and RunRaces, one after
// another, as the subtests Contract, Engine, Feed, Model and Races. A store conforms when
// it passes Run; while it is being written, its author may run one tier at
// a time, starting with RunContract.
//
// newStore must return a fresh, empty store of its own each time: it is
// called from subtests that run in parallel, so two calls must never
// share a database, schema or file that one of them empties. It may
// register the store's cleanup with t.Cleanup. It is called with the t of
// the subtest that uses the store: once per contract and engine subtest,
// once per race (whose rounds then use fresh series in that store), and
// once per random sequence of the model test (whose cleanups run when all
// its sequences are done). sizes sets the expensive parts.
//
// Each tier returns when all its subtests have finished. Within the
// Contract and Engine tiers the subtests run in parallel, as many at once
// as go test's -parallel flag allows (GOMAXPROCS by default); a store over
// a server with a connection limit must allow that many stores' pools at
// once, or the test passes a lower -parallel. The races and the model test
// run one at a time.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	RunContract(t, newStore, sizes)
	RunEngine(t, newStore, sizes)
	RunFeed(t, newStore, sizes)
	RunModel(t, newStore, sizes)
	RunRaces(t, newStore, sizes)
}

// RunContract runs the store-contract tier, as the subtest Contract: the
// store driven directly, without the engine, for what the engine cannot
// show. It checks that every record reads back as written, with every
// field; that Apply writes all of a change or none of it, checking each
// coupon's expected version, each redemption's expected status, each
// bump's guard (limit and gap) and rewind, the code sequence's expected
// index, the audience updates and the unique keys, and fails with the
// typed error of what it refused (*store.GuardError,
// *store.ConflictError, *store.ExistsError); that the reads match, order
// and page as the query types of package store document, and return
// copies; that InsertCoupons skips what is taken and UpdateWhere moves at
// most its Limit; that a call with a context already done fails and
// writes nothing; and, in the guard races (ConcurrentGuardedBumps, and
// StoreGuard with sizes.Goroutines goroutines for sizes.RaceRounds
// rounds), that guarded bumps racing at one counter let exactly its limit
// through.
//
// To pass, a store implements each method of store.Store as its
// documentation says; package refstore is a small adapter that does,
// written to be read. StoreGuard runs first, alone; the other subtests
// then run in parallel, each on a store of its own.
func RunContract(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Contract", func(t *testing.T) {
		h.races(t, contractRaces) // parallel subtests wait for this function to return
		h.each(t, contractTests)
	})
}

// RunEngine runs the engine tier, as the subtest Engine: every engine
// operation and its error paths over the store, the way production code
// uses it, each subtest checking the results, the stored state, the
// counters and the events, and matching errors with errors.Is and
// errors.As. The groups: Series, Issue, Upload, Redeem, Limits (every
// limit kind), Hold, Keys (idempotency keys), Strangers (what a code tells
// a non-holder), Reverse, Revoke, Transfer, Reissue, Expiry, Query,
// Generate, Audience, and Input (bad strings and times get one answer on
// every store and change nothing; a rapid property checks that every
// store keeps, as given, the strings and times the engine accepts). A
// subtest skipped with "engine bug: ..." names a known defect of the
// engine, not of the store.
//
// To pass, a store must hold the contract under the changes the engine
// really makes, and keep what it is given as it is given: strings byte for
// byte (multi-byte characters and values at their maximum length
// included), times to the microsecond at least (the suite's times are
// whole seconds, from the years 1900 through 2199). Every subtest runs in
// parallel with the others, each on a store of its own.
func RunEngine(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Engine", func(t *testing.T) {
		for _, g := range engineGroups {
			t.Run(g.name, func(t *testing.T) {
				t.Parallel()
				h.each(t, g.tests)
			})
		}
		t.Run("Input", func(t *testing.T) {
			t.Parallel()
			h.each(t, inputTests)
			t.Run("StoresKeepWhatEngineAccepts", func(t *testing.T) {
				t.Parallel()
				h.inputProperty(t)
			})
		})
	})
}

// engineGroups are the groups of the engine tier but Input, in order.
var engineGroups = []struct {
	name  string
	tests []test
}{
	{"Series", seriesTests},
	{"Issue", issueTests},
	{"Upload", uploadTests},
	{"Redeem", redeemTests},
	{"Limits", limitTests},
	{"Hold", holdTests},
	{"Keys", keyTests},
	{"Strangers", strangerTests},
	{"Reverse", reverseTests},
	{"Revoke", revokeTests},
	{"Transfer", transferTests},
	{"Reissue", reissueTests},
	{"Expiry", expiryTests},
	{"Query", queryTests},
	{"Generate", generateTests},
	{"Audience", audienceTests},
	{"Checkout", checkoutTests},
	{"Basket", basketTests},
	{"Returns", returnTests},
}

// RunModel runs the model tier, as the subtest Model: a model-based test
// (pgregory.net/rapid) that draws random sequences of every engine
// operation on a small world (three customers, a generated series with
// low limits at every level, a common series, an uploaded pool of four
// codes, and a generated series used on baskets under product rules and
// money budgets) and, after every step, compares the engine's result and
// the whole stored state (every coupon, redemption with its per-line
// split, counter, budget and history) with a plain in-memory model of the
// rules. sizes.RapidChecks and
// sizes.RapidSteps set how many sequences it draws and how long they are.
//
// To pass, a store must hold the contract across any sequence of
// operations, where the other tiers check one scenario at a time: a
// sequence that leaves the store different from the model fails the
// tier, and rapid shrinks it to a short one that shows the difference.
func RunModel(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Model", h.model)
}

// RunRaces runs the concurrency tier, as the subtest Races: in each race,
// sizes.Goroutines goroutines act at once through the engine, for
// sizes.RaceRounds rounds on fresh series, at each limit kind (code,
// customer and series levels, the redemption gap, holds, the issuance
// limits, common codes, pools, one issue key, the code sequence), on one
// coupon or one redemption from every side (redeem, reverse, revoke,
// confirm, release), and through two engines minting from one series' code
// sequence as two processes over one database do, with idempotent retries
// mixed in. Exactly the allowed number succeed, every loser gets the right
// refusal, and afterwards the counters equal the redemption records and
// each record has its event.
//
// To pass, a store must apply each change atomically and in isolation
// from every other, checking each guard and expectation against the
// values at the moment it writes (an UPDATE ... WHERE n < limit, or a lock
// held from the check to the write), never against values read earlier.
// The races run one at a time: each needs the machine, and the store's
// connections, to itself.
func RunRaces(t *testing.T, newStore func(t *testing.T) store.Store, sizes Sizes) {
	h := newHarness(newStore, sizes)
	t.Run("Races", func(t *testing.T) { h.races(t, races) })
}

// harness holds what every subtest needs to build its world.
type harness struct {
	newStore func(t *testing.T) store.Store
	sizes    Sizes
}

func newHarness(newStore func(t *testing.T) store.Store, sizes Sizes) *harness {
	return &harness{newStore: newStore, sizes: sizes.withDefaults()}
}

// test is one subtest on a fresh env.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// each runs tests as parallel subtests of t, each on an env of its own.
func (h *harness) each(t *testing.T, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, h.env(t))
		})
	}
}
