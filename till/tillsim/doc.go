// Package tillsim is the deterministic simulation test of tills and the
// central couponkit: one central engine and a few tills, each with its own
// SQLite journal file, talking over a simulated network that loses,
// duplicates, delays and reorders their messages, under clocks that drift
// and tills that crash. The package has no API: it is its tests
// (sim_test.go and the files beside it); this file documents them.
//
// # The model
//
// One run builds, in one process:
//
//   - the central: a couponkit.Engine over memstore (or the SQLite store,
//     with -tillsim.store=sqlite), its clock the simulation's time, ids
//     from a counter so that a run replays exactly;
//   - three series, each with a series use limit drawn small: a common
//     code with a customer level (issued to three of the four customers),
//     uploaded codes anyone may use with a code level, and personal
//     uploaded codes (one per customer, once each, which the run revokes);
//     in about one run in three each of the first two also has a money
//     budget (series.Budget.Total) of at most eight of its 5 EUR
//     discounts, in steps of 50 cents, refusing or reducing a discount
//     past it (budget_test.go): its leases hold a slice of the budget,
//     which the tills spend offline;
//   - three to eight tills: each a till.Journal over its own SQLite file in
//     a temporary directory, its clock the simulation's time plus an
//     offset within the clock-skew allowance. About half are tills of the
//     library (till.Till, libtill_test.go), keeping leases of a drawn set
//     of series: they sell online first (Till.Redeem: the central's
//     RedeemAtTill over the link, the journal under the same key when it
//     does not answer) and sync with Till.Sync (upload, the lease calls
//     left unanswered sent again with their keys, leases sized by a
//     policy, the feed); they start synced. The others call the journal
//     directly and make their own lease calls, keeping beside the journal
//     their outstanding call and the newest answer for each lease; most
//     start with a lease;
//   - the network: every call a till makes to the central (grant, renew,
//     top up and return a lease, upload the journal, fetch a series, an
//     online redemption, a page of the feed) goes through a link whose
//     fate the run draws: delivered, request lost, answer lost after the
//     central applied it (the ambiguous case), delivered and delivered
//     again later, or held in flight and delivered later; a message
//     delivered late comes after newer ones (an older journal batch after
//     a newer one, an old answer after a new one, an old feed page). A
//     call that gets no answer fails with a passed deadline, as a till's
//     timeout would (till.Unanswered). A till can be partitioned for a
//     while: all its calls are lost.
//
// Then rapid draws a schedule of actions (the table in actions_test.go,
// where new operations of the protocol join as new actions): offline
// redemptions at tills (random codes and customers, bills under and over
// a minimum), a cashier repeating a sale, reversals of a till's uses
// (offline or online, Journal.Reverse, synced up), central redemptions,
// revocations, series edits (levels, minimum bill, a raised series limit)
// and tills fetching them, lease grants, renewals, top-ups and returns,
// journal syncs in batches, time passing, the central reclaiming lapsed
// leases, partitions, in-flight messages delivered, and till crashes: the
// till's *sql.DB is closed and its file reopened, at any point, during a
// sale (before its commit) or between an upload and its MarkSynced. A
// sale that crashed is tried again with its key, as a cashier would.
//
// A till behaves as the protocol asks: it retries a call with the same
// idempotency key until it gets an answer, makes one lease call at a time,
// sets aside the uses it returns before it asks (Journal.ReserveReturn:
// they are not spent while the answer is in doubt) and settles the call
// with its answer (Journal.SettleCall), and its journal keeps a lease's
// answer only if it is newer than the one it has (Journal.PutLease: an
// answer that arrives late, out of order, must not roll the lease back;
// a till of the library keeps late lease answers and applies late feed
// pages, to exercise both guards).
//
// # The checks
//
// At the end of a run the network heals, every in-flight message is
// delivered, every till settles its call and syncs its whole journal, the
// clock passes every lease's end and the allowance and the central
// reclaims. Then (check_test.go):
//
//	(a) no series' use limit is passed: central redemptions plus every
//	    use a till acknowledged stay within the limit, but for uses
//	    flagged with the series-limit conflict, and each use counted on
//	    the series rather than its lease was made before its lease was
//	    reclaimed and reported after (the one case the escrow does not
//	    cover); no till uses a lease at or after its end by the central's
//	    clock, whatever its own clock says within the allowance;
//	(b) every use a till acknowledged (Journal.Redeem or Till.Redeem
//	    returned no error, online or offline) is recorded centrally once,
//	    as the same sale (a use acknowledged online as an online record;
//	    one decided online whose answer was lost and then offline, once),
//	    and nothing else is: no use the till did not acknowledge (but an
//	    online use the till asked for and never learned of, counted in
//	    the statistics), no entry the journal lacks; every reversal a till
//	    acknowledged is recorded once and gave its use back; a recorded
//	    use is a redemption of its coupon exactly when the central found
//	    no conflict in it, standing until reversed;
//	(c) counters equal records: each series' use counter is the central
//	    redemptions plus the unreversed uses counted on the series plus,
//	    for every lease, Granted - Returned - Reclaimed, less the reversed
//	    uses counted on leases (lease/doc.go); every lease keeps
//	    Used + Returned + Reclaimed + Left = Granted with every part >= 0
//	    and Left = 0 once closed, and its Used is the number of entries
//	    counted on it; each till's own count of a lease's uses is its
//	    journal's, within what the central granted less what was returned,
//	    and its view of a lease holds no more granted and no less
//	    returned than the central's, and nothing set aside for a return
//	    or a lease call left unanswered;
//	(d) every till's journal is fully synced;
//	(e) no series' budget is passed: its budget counter never passes the
//	    budget, and is, between steps and at the end, the money of the
//	    central redemptions plus that of the tills' standing uses counted
//	    on the series' counter (online, or off their lease) plus, for
//	    every lease, (Granted - Returned - Reclaimed).Money, less the
//	    money of reversed journal uses counted on leases; and the money
//	    the standing uses gave (the central's, and the discounts the tills
//	    gave) stays within the budget, but for the tills' uses flagged as
//	    conflicts, as in (a).
//
// The checker returns the violations it finds, and those met on the way
// (an untyped error, a key the central says was used for another call,
// a journal write that failed). mutants_test.go runs the simulation over
// centrals broken on purpose (a grant counted twice against its series,
// a grant that takes money past the series' budget, unguarded,
// a journal use counted on its series too, a journal use counted twice
// on its lease, and one that records a till's online use and the journal
// entry of the same key as two uses) and with tills that break the
// protocol (a journal keeping a late answer over a newer one, spending a
// return whose answer is in doubt, marking an upload synced that got no
// answer), and asserts that the checker reports each.
//
// # Extending
//
// A new operation of the protocol joins as an action in actions_test.go:
// a till's call to the central is a message (net_test.go) whose do runs
// it at the central and whose late handles an answer that comes back
// late, sent with world.send so that the link's fates apply to it; a use
// a till acknowledges (offline, or online once the central answers it)
// goes in the till's acked map, which checks (a) and (b) read; a
// guarantee the operation adds becomes a check in check_test.go, with a
// mutant that breaks it in mutants_test.go.
//
// # Running and replaying
//
// By default (go test ./...) the simulation makes 150 runs (a quarter of
// that under the race detector, a fifth with -short) and a tenth as many
// with the central on the SQLite store (TestSimulationSQLite), and the
// package takes seconds:
//
//	go test ./till/tillsim/
//
// The long run sets the number of runs (TestSimulationSQLite makes a
// tenth as many on the SQLite store), and optionally the central's store
// of TestSimulation and the length of a run (-tillsim.steps, 80 actions
// at most by default); -rapid.checks or RAPID_CHECKS also set the number
// of runs:
//
//	go test ./till/tillsim/ -run '^TestSimulation' -tillsim.checks=5000
//	go test ./till/tillsim/ -run '^TestSimulation$' -tillsim.checks=500 -tillsim.store=sqlite
//
// A failing run is shrunk by rapid to a short schedule (steps it does not
// need become "nothing"), logged step by step (each action, each
// message's fate, each answer, each sale), and saved under
// testdata/rapid/<test>/. Replay it, in the test that failed, with the
// file it saved, or the command rapid prints with the failure (and the
// same -tillsim.store and -tillsim.steps):
//
//	go test ./till/tillsim/ -run '^TestSimulation$' -rapid.failfile=testdata/rapid/TestSimulation/<file>
//
// Every draw (the schedule, the fates of messages, the clocks) comes from
// rapid, and ids from a counter, so a saved run replays exactly; add
// -v to see the passing runs' statistics, -rapid.shrinktime to shrink
// longer or shorter.
//
// One hazard the checks let pass, counted in the statistics: the central
// decides an online call it records nothing of when it refuses it, so a
// copy of the call delivered after the till stopped waiting (or a call
// whose answer was lost, the sale then refused offline) may make a use
// the till never learns of ("online uses the till never acknowledged"),
// and, when that use took a lease use the till then spent offline, the
// offline use is counted on the series ("entries pushed onto the series
// by an online use the till never learned of"), under the series' limit
// and flagged past it.
//
// TestPutLeaseKeepsNewestAnswer checks the journal's guard against a
// late answer rolling a lease back, the first hazard the simulation
// found.
package tillsim
