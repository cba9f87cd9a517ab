package storetest

import (
	"testing"

	"github.com/couponkit/couponkit/store"
)

// Capabilities tunes the suite to a backend. The zero value asks for the
// full suite at its default sizes, which suit an in-memory store; slower
// backends lower the race and model sizes rather than skip them. Every field
// is an explicit knob: the suite never guesses from a store's name.
type Capabilities struct {
	// Parallelism is how many goroutines race in each concurrency test.
	// Zero means 64. A backend with a small connection pool may lower it,
	// but keep it well above the limits being raced at (the races use
	// limits of 1 to 7), or the races prove little.
	Parallelism int
	// RaceRounds is how many times each race is repeated, each round on a
	// fresh series. Zero means 20, enough for an in-memory store to hit the
	// interleavings that matter; a SQL store over the network may pass 3
	// to 5.
	RaceRounds int
	// RapidChecks is how many random operation sequences the model test
	// runs; zero means rapid's default (100, or the -rapid.checks flag).
	// An explicit -rapid.checks flag or RAPID_CHECKS environment variable
	// wins over this field.
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
	// goroutines, the model test a fifth of its checks. The suite also
	// scales down when testing.Short() is true.
	Short bool
	// SkipRaces skips the concurrency tests. Only for a store that is not
	// safe for concurrent use at all; such a store cannot back an engine
	// used by more than one goroutine, and the engine documents that it is.
	SkipRaces bool
}

// withDefaults fills in the zero fields.
func (c Capabilities) withDefaults() Capabilities {
	if c.Parallelism <= 0 {
		c.Parallelism = 64
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
		c.Parallelism = min(c.Parallelism, 16)
	}
	return c
}

// Run runs the conformance suite against the stores newStore makes.
//
// newStore must return a fresh, empty store each time; it may register its
// cleanup with t.Cleanup. It is called once per operation and contract
// subtest, once per race (whose rounds then use fresh series in that
// store), and once per random sequence of the model test, all with the t of
// the subtest (for the model test, the cleanups run when all its sequences
// are done). caps tunes the expensive parts.
//
// The subtests, by group: Series, Issue, Upload, Redeem, Limits, Hold,
// Keys (idempotency keys), Strangers (what a code tells a non-holder),
// Reverse, Revoke, Transfer, Reissue, Expiry, Query, Generate, Audience
// (operations and their error paths, through the engine); Input (bad
// strings and times get one answer on every store, and what the engine
// accepts every store keeps as it is); Contract (the store contract,
// directly); Model (the model-based rapid test); Race (the concurrency
// tests). A subtest skipped with "engine bug: ..." names a known defect of
// the engine, not of the store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, caps Capabilities) {
	h := &harness{newStore: newStore, caps: caps.withDefaults()}
	t.Run("Series", func(t *testing.T) { h.each(t, seriesTests) })
	t.Run("Issue", func(t *testing.T) { h.each(t, issueTests) })
	t.Run("Upload", func(t *testing.T) { h.each(t, uploadTests) })
	t.Run("Redeem", func(t *testing.T) { h.each(t, redeemTests) })
	t.Run("Limits", func(t *testing.T) { h.each(t, limitTests) })
	t.Run("Hold", func(t *testing.T) { h.each(t, holdTests) })
	t.Run("Keys", func(t *testing.T) { h.each(t, keyTests) })
	t.Run("Strangers", func(t *testing.T) { h.each(t, strangerTests) })
	t.Run("Reverse", func(t *testing.T) { h.each(t, reverseTests) })
	t.Run("Revoke", func(t *testing.T) { h.each(t, revokeTests) })
	t.Run("Transfer", func(t *testing.T) { h.each(t, transferTests) })
	t.Run("Reissue", func(t *testing.T) { h.each(t, reissueTests) })
	t.Run("Expiry", func(t *testing.T) { h.each(t, expiryTests) })
	t.Run("Query", func(t *testing.T) { h.each(t, queryTests) })
	t.Run("Generate", func(t *testing.T) { h.each(t, generateTests) })
	t.Run("Audience", func(t *testing.T) { h.each(t, audienceTests) })
	t.Run("Input", func(t *testing.T) {
		h.each(t, inputTests)
		t.Run("StoresKeepWhatEngineAccepts", h.inputProperty)
	})
	t.Run("Contract", func(t *testing.T) { h.each(t, contractTests) })
	t.Run("Model", h.model)
	t.Run("Race", func(t *testing.T) {
		if h.caps.SkipRaces {
			t.Skip("Capabilities.SkipRaces is set")
		}
		h.races(t)
	})
}

// harness holds what every subtest needs to build its world.
type harness struct {
	newStore func(t *testing.T) store.Store
	caps     Capabilities
}

// test is one subtest on a fresh env.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

func (h *harness) each(t *testing.T, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h.env(t)) })
	}
}
