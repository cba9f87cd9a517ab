package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// testFeedNotices: a notice's event is appended, after the change's
// events, exactly when the change's bumps take its counter from below its
// value to at or above it; otherwise the change is applied without it.
func testFeedNotices(t *testing.T, e *env) {
	s := e.gen("notices")
	key := store.CounterKey{Counter: limits.SeriesIssued, Series: s.ID}
	other := store.CounterKey{Counter: limits.SeriesUses, Series: s.ID}
	_, mark := e.feed(store.Position{})
	ev := func(id string) coupon.Event {
		return coupon.Event{ID: id, Kind: coupon.EventIssued, SeriesID: s.ID, At: t0}
	}
	note := func(id string, k store.CounterKey, reach int64) store.Notice {
		n := coupon.ThresholdEvent(s.ID, reach, t0)
		n.ID = id
		return store.Notice{Key: k, Reach: reach, Event: n}
	}
	up := func(k store.CounterKey, limit limits.Limit) store.Bump {
		return store.Bump{Key: k, Delta: 1, At: t0, Guard: limits.Guard{Counter: k.Counter, Limit: limit}}
	}
	up2 := func(k store.CounterKey) store.Bump {
		b := up(k, 0)
		b.Delta = 2
		return b
	}
	steps := []struct {
		what string
		c    store.Change
		err  error
	}{
		{"0 to 1, notice at 2", store.Change{Events: []coupon.Event{ev("e1")}, Bumps: []store.Bump{up(key, 0)},
			Notices: []store.Notice{note("n1", key, 2)}}, nil},
		{"1 to 2, notice at 2", store.Change{Events: []coupon.Event{ev("e2")}, Bumps: []store.Bump{up(key, 0)},
			Notices: []store.Notice{note("n2", key, 2)}}, nil},
		{"2 to 3, notice at 2", store.Change{Bumps: []store.Bump{up(key, 0)}, Notices: []store.Notice{note("n3", key, 2)}}, nil},
		{"3 to 5 in one bump of 2, notices at 4, 6 and on a counter not bumped", store.Change{Bumps: []store.Bump{up2(key)},
			Notices: []store.Notice{note("n4", key, 4), note("n5", key, 6), note("n6", other, 1)}}, nil},
		{"5 to 4, notice at 5", store.Change{Bumps: []store.Bump{{Key: key, Delta: -1, At: t0}}, Notices: []store.Notice{note("n7", key, 5)}}, nil},
		{"refused by its guard, notice at 5", store.Change{Events: []coupon.Event{ev("e8")}, Bumps: []store.Bump{up(key, 4)},
			Notices: []store.Notice{note("n8", key, 5)}}, errcode.ErrGuardFailed},
		{"4 to 5 with an event after a notice's, notice at 5", store.Change{Events: []coupon.Event{ev("e9")}, Bumps: []store.Bump{up(key, 0)},
			Notices: []store.Notice{note("n9", key, 5), note("n10", key, 5)}}, nil},
	}
	for _, st := range steps {
		err := e.st.Apply(e.ctx, &st.c)
		if st.err == nil && !wantOK(t, err, "Apply, %s", st.what) || st.err != nil && !errors.Is(err, st.err) {
			t.Fatalf("Apply, %s: got %v, want %v", st.what, err, st.err)
		}
	}
	got, _ := e.feed(mark)
	same(t, feedIDs(got), []string{"e1", "e2", "n2", "n4", "e9", "n9", "n10"},
		"a notice's event follows the change's events when its counter crossed its value upwards in the change, and only then")
	for _, fe := range got {
		if fe.Event.ID == "n2" && (fe.Event.Kind != coupon.EventIssuanceThreshold || fe.Event.Remaining != 2 || fe.Event.SeriesID != s.ID) {
			t.Errorf("a notice's event is stored as given: %+v", fe.Event)
		}
	}
	same(t, eventIDs(e.allEvents()), feedIDs(got), "the notices' events are stored events too")
}

// thresholdEvents returns the IssuanceThreshold events of the feed after
// from.
func (e *env) thresholdEvents(from store.Position) []coupon.Event {
	var out []coupon.Event
	got, _ := e.feed(from)
	for _, fe := range got {
		if fe.Event.Kind == coupon.EventIssuanceThreshold {
			out = append(out, fe.Event)
		}
	}
	return out
}

// testFeedThreshold: the issue that leaves NotifyRemaining coupons to
// issue writes one IssuanceThreshold event, right after its own Issued
// event; no issue before or after writes one.
func testFeedThreshold(t *testing.T, e *env) {
	s := e.gen("threshold", func(s *series.Series) { s.Issuance.MaxTotal = 5; s.Issuance.NotifyRemaining = 2 })
	var third coupon.Coupon
	for i, c := range []string{alice, bob, carol, dave, erin} {
		got := e.issue(s.ID, c)
		if i == 2 {
			third = got
		}
	}
	got, _ := e.feed(store.Position{})
	var kinds []string
	for _, fe := range got {
		if fe.Event.SeriesID == s.ID && fe.Event.Kind != coupon.EventCreated {
			kinds = append(kinds, fe.Event.Kind.String()+":"+fe.Event.CouponID)
		}
	}
	want := []string{}
	for i, c := range e.issuedInOrder(got, s.ID) {
		want = append(want, "issued:"+c)
		if i == 2 {
			want = append(want, "issuance_threshold:")
		}
	}
	same(t, kinds, want, "one threshold event, right after the third issue's (%s), which left 2 of 5", third.ID)
	th := e.thresholdEvents(store.Position{})
	if len(th) == 1 && (th[0].Remaining != 2 || th[0].SeriesID != s.ID || th[0].CouponID != "" || th[0].Customer != "" || !th[0].At.Equal(t0) || !th[0].Notification()) {
		t.Errorf("the threshold event names the series and the coupons left, at the issue's time, for no coupon or customer: %+v", th[0])
	}
	e.mu.Lock()
	calls := len(e.remaining)
	e.mu.Unlock()
	if calls != 1 {
		t.Errorf("OnRemaining, the best-effort callback, was called %d times; want 1", calls)
	}
}

// issuedInOrder lists the coupon ids of the series' Issued events in
// feed order.
func (e *env) issuedInOrder(fes []store.FeedEvent, seriesID string) []string {
	var out []string
	for _, fe := range fes {
		if fe.Event.SeriesID == seriesID && fe.Event.Kind == coupon.EventIssued {
			out = append(out, fe.Event.CouponID)
		}
	}
	return out
}

// testFeedThresholdBatch: an IssueBatch that crosses the threshold writes
// one IssuanceThreshold event after its issues; a later batch none.
func testFeedThresholdBatch(t *testing.T, e *env) {
	s := e.gen("batch", func(s *series.Series) { s.Issuance.MaxTotal = 10; s.Issuance.NotifyRemaining = 4 })
	batch := func(custs ...string) {
		reqs := make([]couponkit.IssueRequest, len(custs))
		for i, c := range custs {
			reqs[i] = couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(c)}
		}
		out, err := e.e.IssueBatch(e.ctx, reqs)
		mustOK(t, err, "IssueBatch")
		for i, o := range out {
			mustOK(t, o.Err, "IssueBatch request %d", i)
		}
	}
	batch(alice, bob, carol, dave, erin)
	if th := e.thresholdEvents(store.Position{}); len(th) != 0 {
		t.Errorf("5 of 10 issued, 5 left, threshold 4: %d threshold events", len(th))
	}
	_, mark := e.feed(store.Position{})
	batch(alice, bob, carol)
	got, _ := e.feed(mark)
	if n := len(got); n == 0 || got[n-1].Event.Kind != coupon.EventIssuanceThreshold || got[n-1].Event.Remaining != 4 {
		t.Errorf("a batch from 5 to 8 of 10, threshold 4, ends with the threshold event: %v", feedIDs(got))
	}
	if th := e.thresholdEvents(store.Position{}); len(th) != 1 {
		t.Errorf("one threshold event; got %d", len(th))
	}
}

// testFeedReissue: a reissue whose caller asked to notify the holder is a
// notification on the feed, with the new code; one without is not.
func testFeedReissue(t *testing.T, e *env) {
	s := e.gen("reissue", func(s *series.Series) { s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 0} })
	quiet, loud := e.issue(s.ID, alice), e.issue(s.ID, bob)
	e.clk.Advance(24 * time.Hour)
	_, mark := e.feed(store.Position{})
	_, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: quiet.Code})
	mustOK(t, err, "Reissue")
	res, err := e.e.Reissue(e.ctx, couponkit.ReissueRequest{Code: loud.Code, Notify: true})
	mustOK(t, err, "Reissue")
	got, _ := e.feed(mark)
	var notes []coupon.Event
	for _, fe := range got {
		if fe.Event.Notification() {
			notes = append(notes, fe.Event)
		}
	}
	if len(notes) != 1 || notes[0].Kind != coupon.EventReissued || notes[0].Customer != bob || notes[0].NewCode != res.New.Code || notes[0].CouponID != loud.ID {
		t.Errorf("the feed notifies of the one reissue asked to, for its holder, with the new code: %+v", notes)
	}
}

// reminderWorld is a series with two reminders and coupons issued so that
// the reminders of two coupons are due in the first window, and the first
// coupon's again (the other reminder) in the second.
func (e *env) reminderWorld() (s series.Series, first, second time.Time, due int) {
	s = e.gen("remind", func(s *series.Series) {
		s.Expiry = series.Expiry{Kind: series.DaysFromIssue, N: 10}
		s.Reminders = []series.Reminder{
			{DaysBefore: 0, At: series.At(9, 0), Channel: "sms"},
			{DaysBefore: 2, At: series.At(9, 0), Channel: "email"},
		}
	})
	e.issue(s.ID, alice)
	e.issue(s.ID, bob)
	red := e.issue(s.ID, carol)
	e.redeem(red.Code, carol, "k") // used up: no reminder
	// Issued 7 Jan: last valid day 17 Jan; email due 15 Jan 09:00, sms 17 Jan 09:00 (UTC).
	first = time.Date(2030, 1, 15, 12, 0, 0, 0, time.UTC)
	second = time.Date(2030, 1, 17, 12, 0, 0, 0, time.UTC)
	return s, first, second, 2
}

func reminderEvents(fes []store.FeedEvent) []coupon.Event {
	var out []coupon.Event
	for _, fe := range fes {
		if fe.Event.Kind == coupon.EventReminderDue {
			out = append(out, fe.Event)
		}
	}
	return out
}

// testFeedReminders: SweepReminders records each reminder that came due
// once, for the coupon's holder, on the reminder's channel, at the time it
// came due; a second sweep over the same window records nothing.
func testFeedReminders(t *testing.T, e *env) {
	_, first, second, n := e.reminderWorld()
	from := t0
	e.clk.Advance(first.Sub(e.clk.Now()))
	got, err := e.e.SweepReminders(e.ctx, from)
	if wantOK(t, err, "SweepReminders") && got != n {
		t.Errorf("the first sweep recorded %d reminders; want %d (the email reminders of the two unused coupons)", got, n)
	}
	again, err := e.e.SweepReminders(e.ctx, from)
	if wantOK(t, err, "SweepReminders again") && again != 0 {
		t.Errorf("a second sweep over the same window recorded %d reminders; want none", again)
	}
	e.clk.Advance(second.Sub(first))
	got, err = e.e.SweepReminders(e.ctx, from)
	if wantOK(t, err, "SweepReminders later") && got != n {
		t.Errorf("a later sweep over a window holding both reminders recorded %d; want %d (only the sms ones are new)", got, n)
	}
	all, _ := e.feed(store.Position{})
	evs := reminderEvents(all)
	var seen []string
	for _, ev := range evs {
		due := time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC)
		if ev.Channel == "sms" {
			due = time.Date(2030, 1, 17, 9, 0, 0, 0, time.UTC)
		}
		c := e.stored(ev.CouponID)
		if ev.Customer != c.Holder || ev.Code != c.Code || !ev.At.Equal(due) || !ev.Notification() || ev.Reason == "" {
			t.Errorf("a reminder event names the coupon, its holder, the channel and when it came due: %+v", ev)
		}
		seen = append(seen, ev.Customer+"/"+ev.Channel)
	}
	same(t, seen, []string{"alice/email", "bob/email", "alice/sms", "bob/sms"}, "each reminder once, in the order they came due")
}

// testFeedCheckpoints: a store that keeps checkpoints keeps one position
// per consumer name, refuses names that are not ids, positions past its
// last event, and says when a name has none.
func testFeedCheckpoints(t *testing.T, e *env) {
	cp, ok := e.st.(store.Checkpointer)
	if !ok {
		t.Skip("the store keeps no checkpoints (store.Checkpointer)")
	}
	_, err := cp.Checkpoint(e.ctx, "mailer")
	var unknown *store.UnknownConsumerError
	if !errors.As(err, &unknown) || unknown.Consumer != "mailer" || !errors.Is(err, errcode.ErrUnknownConsumer) || !errors.Is(err, errcode.ErrNotFound) {
		t.Errorf("a name never saved: got %v; want a *store.UnknownConsumerError naming it", err)
	}
	e.workload("checkpoints")
	got, head := e.feed(store.Position{})
	mid := got[len(got)/2].Position
	mustOK(t, cp.SaveCheckpoint(e.ctx, "mailer", mid), "SaveCheckpoint")
	mustOK(t, cp.SaveCheckpoint(e.ctx, "ledger", head), "SaveCheckpoint")
	mustOK(t, cp.SaveCheckpoint(e.ctx, "zero", store.Position{}), "SaveCheckpoint of the start")
	for name, want := range map[string]store.Position{"mailer": mid, "ledger": head, "zero": {}} {
		if p, err := cp.Checkpoint(e.ctx, name); err != nil || p != want {
			t.Errorf("Checkpoint(%q) = %s, %v; want %s", name, p, err, want)
		}
	}
	mustOK(t, cp.SaveCheckpoint(e.ctx, "mailer", head), "SaveCheckpoint again")
	if p, err := cp.Checkpoint(e.ctx, "mailer"); err != nil || p != head {
		t.Errorf("a second save replaces the first: got %s, %v; want %s", p, err, head)
	}
	hi, lo := head.Parts()
	err = cp.SaveCheckpoint(e.ctx, "mailer", store.MakePosition(hi, lo+1))
	var fe *store.FuturePositionError
	if !errors.As(err, &fe) {
		t.Errorf("saving a position past the last event: got %v; want a *store.FuturePositionError", err)
	}
	if p, err := cp.Checkpoint(e.ctx, "mailer"); err != nil || p != head {
		t.Errorf("a refused save changes nothing: got %s, %v; want %s", p, err, head)
	}
	for _, bad := range []string{"", "a\nb", "nul\x00", "\xff", strings.Repeat("x", 129)} {
		wantField(t, cp.SaveCheckpoint(e.ctx, bad, head), errcode.InvalidArgument, "Consumer", "SaveCheckpoint(%q)", bad)
		_, err := cp.Checkpoint(e.ctx, bad)
		wantField(t, err, errcode.InvalidArgument, "Consumer", "Checkpoint(%q)", bad)
	}
	long := strings.Repeat("ü", 64) // 128 bytes
	mustOK(t, cp.SaveCheckpoint(e.ctx, long, mid), "a name of 128 bytes")
	if p, err := cp.Checkpoint(e.ctx, long); err != nil || p != mid {
		t.Errorf("Checkpoint of a 128-byte name = %s, %v", p, err)
	}
}

// testFeedThresholdRace: however many issues race past the threshold,
// one writes the threshold event.
func testFeedThresholdRace(t *testing.T, e *env) {
	p := max(e.sizes.Goroutines, 8)
	e.addCustomers(raceCustomers(p)...)
	for round := range max(1, e.sizes.RaceRounds/4) {
		s := e.gen(fmt.Sprintf("threshold-race-%d", round), func(s *series.Series) {
			s.Issuance.MaxTotal = limits.Limit(p / 2)
			s.Issuance.NotifyRemaining = int64(p / 4)
		})
		run(p, func(i int) error {
			_, err := e.e.Issue(e.ctx, couponkit.IssueRequest{SeriesID: s.ID, Customer: couponkit.ByID(fmt.Sprintf("r%d", i))})
			return err
		})
		n := 0
		for _, ev := range e.thresholdEvents(store.Position{}) {
			if ev.SeriesID == s.ID {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d goroutines issued a series of %d, threshold %d: %d threshold events; want 1", round, p, p/2, p/4, n)
		}
	}
}

// testFeedRemindersRace: sweeps racing over one window record each
// reminder once in all.
func testFeedRemindersRace(t *testing.T, e *env) {
	_, first, _, n := e.reminderWorld()
	e.clk.Advance(first.Sub(e.clk.Now()))
	p := min(e.sizes.Goroutines, 16)
	counts := run(p, func(int) int {
		k, err := e.e.SweepReminders(e.ctx, t0)
		if err != nil {
			t.Errorf("SweepReminders: %v", err)
		}
		return k
	})
	total := 0
	for _, k := range counts {
		total += k
	}
	all, _ := e.feed(store.Position{})
	if got := len(reminderEvents(all)); total != n || got != n {
		t.Errorf("%d sweeps at once recorded %d reminders and the feed holds %d; want %d", p, total, got, n)
	}
}
