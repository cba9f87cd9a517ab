// Command fleet runs a central couponkit and its tills as separate
// processes, the way a retailer does: one central on PostgreSQL (or
// SQLite), tills each with their own SQLite file, talking over HTTP
// (package tillhttp). The tills sell online first (till.Till.Redeem): the
// central decides each sale while it answers, and the till decides it
// offline, within the slices of the offer's uses it leased, under the same
// key, when the central does not answer. They sync (till.Till.Sync) when
// they can, and give a few sales back (reversals); the central records
// each use and reversal exactly once and keeps the offer's limit.
//
//	go run ./examples/fleet            # the demo: a central, three tills, an outage
//	go run ./examples/fleet central -store sqlite:central.db -addr 127.0.0.1:8080
//	go run ./examples/fleet central -store postgres:'postgres://...' -addr 127.0.0.1:8080
//	go run ./examples/fleet till -central http://127.0.0.1:8080 -id T1 -secret s1 -file t1.sqlite -sales 100
//	go run ./examples/fleet report -store sqlite:central.db
//
// The demo (the default) starts the central and three tills as processes
// of this same binary, puts a TCP proxy (package netcut) between them,
// cuts the tills off for a while (they keep selling within their leases),
// heals, lets every till sync and return what it has left of its leases,
// and prints how many sales each till had decided online and offline and
// gave back, how many it refused or declined and how many of those were
// sales in doubt that its syncs voided (see below), the reconciliation report (Engine.Reconcile) and the audit of
// the books (package central's Check): the offer's use limit held, every
// lease adds up, and the use counter is the unreversed uses counted on the
// series, plus what the leases hold, less the reversed uses counted on
// leases.
//
// # Sales in doubt
//
// A sale a till asked the central in vain (its answer lost, or past the
// deadline) and then refused or declined offline gave the customer no
// discount, yet the central may have made the use. The till records the
// attempt as refused or declined; till.Till keeps the sale in doubt
// (till.Journal.Doubts), and its Sync settles it: it asks the central
// again under the sale's key and, when the central made the use, records
// it and gives it back at once under the key with "/void" added, so that
// no coupon stays used up by a sale that never happened. At the end each
// till syncs until its journal holds no sale in doubt.
//
// # Pieces
//
//   - package offer: the demo offer (uploaded coupons, each used once, a
//     use limit for the series);
//   - package central: the central (store, handler, lease reclaims) and
//     the audit; it links the PostgreSQL driver;
//   - package tillproc: the till process (online-first sales through
//     till.Till, reversals, syncs, returns), which links SQLite only, as a
//     till binary should;
//   - package netcut: the proxy that scripts outages.
//
// # Tests
//
// TestDemo runs the demo on SQLite (a few seconds, in every `go test`).
// TestFleetChaosPostgres runs when COUPONKIT_TEST_POSTGRES names a
// database (in a schema of its own): the central on PostgreSQL, three
// tills over loopback HTTP through the proxy, and for 20 seconds
// (COUPONKIT_FLEET_CHAOS_SECONDS for longer) random cuts, dropped
// connections and SIGKILLs of tills and of the central, each restarted on
// its own file or database. Both then check that every sale a till
// acknowledged is recorded centrally exactly once (one acknowledged as
// decided online as an online use), every acknowledged reversal gave its
// use back, every journal entry is recorded once (an online use the
// central decided but whose answer the till lost, then decided offline
// under the same key, included) with the till's record of its sale, a
// use reversed under its key and "/void" being a sale in doubt the till
// recorded as refused or declined, given back at the till and centrally,
// and never acknowledged; that no till's journal holds a sale in doubt,
// that the offer's limit held (the PostgreSQL test samples the counter
// all along) and that the books add up.
package main
