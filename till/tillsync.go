package till

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/lease"
)

// SyncReport is what one [Till.Sync] did.
type SyncReport struct {
	// Uploaded is how many journal entries the central acknowledged.
	Uploaded int `json:"uploaded"`
	// Events is how many feed events the till read.
	Events int `json:"events"`
	// Voided is how many sales in doubt the central had made and the till
	// gave back; InDoubt how many the central did not answer about yet.
	Voided  int `json:"voided,omitempty"`
	InDoubt int `json:"in_doubt,omitempty"`
	// Leases are the lease calls it made, in order.
	Leases []LeaseAction `json:"leases,omitempty"`
}

// LeaseAction is one lease call of a sync: a grant, renewal, top-up or
// return of Uses uses on a lease of a series, with the End it asked for.
type LeaseAction struct {
	Kind     lease.Kind `json:"kind"`
	SeriesID string     `json:"series_id"`
	LeaseID  string     `json:"lease_id"`
	Uses     int64      `json:"uses,omitempty"`
	End      time.Time  `json:"end,omitzero"`
}

// maxFeedPages bounds the feed pages one Sync reads.
const maxFeedPages = 100

// Sync brings the till and the central together: it uploads the journal
// ([Journal.Sync]) and settles the sales in doubt (asked of the central in
// vain, then not made offline: the central's use, if it made one, is
// recorded and given back, and uploaded); then it sends again, with their
// keys, the lease calls written down and not answered ([Journal.Calls]: an
// answer lost, or a till that crashed before it came), so that the till
// learns the lease a lost grant made and a return in doubt is settled;
// then, for each series it keeps a lease of (Config.Series), sizes its
// leases by the size policy from the till's uses of the series in the
// last hour (its journal): it grants a lease when it has none usable,
// renews one that has less than half of LeaseFor to run, tops up when
// less than half of what the policy wants is left, and returns what is
// left beyond twice that. Every lease call is written down before it is
// sent ([Journal.BeginCall]: a return's uses are set aside, not spent
// while its answer is in doubt) and settled with the central's answer
// ([Journal.SettleCall]); a call left unanswered stops the sync and is
// sent again by the next. Last, it reads the feed from the till's
// position until it is caught up ([Journal.ApplyFeed]). The leases come
// before the feed because the central's feed tells a till of the series
// it holds a lease of: a till's first lease of a series must be granted
// before it reads past that series' events. It stops at the first
// failure and returns what it did so far.
func (t *Till) Sync(ctx context.Context) (SyncReport, error) {
	var rep SyncReport
	n, err := t.j.Sync(ctx, t.cfg.ID, t.cfg.Central, 0)
	rep.Uploaded = n
	if err != nil {
		return rep, err
	}
	if rep.Voided, rep.InDoubt, err = t.settle(ctx); err != nil {
		return rep, err
	}
	if rep.Voided > 0 {
		n, err := t.j.Sync(ctx, t.cfg.ID, t.cfg.Central, 0)
		rep.Uploaded += n
		if err != nil {
			return rep, err
		}
	}
	calls, err := t.j.Calls(ctx)
	if err != nil {
		return rep, err
	}
	for _, c := range calls {
		if err := t.send(ctx, c, &rep); err != nil {
			return rep, err
		}
	}
	leases, err := t.j.Leases(ctx)
	if err != nil {
		return rep, err
	}
	ids := t.cfg.Series
	if ids == nil {
		for _, l := range leases {
			if !slices.Contains(ids, l.SeriesID) {
				ids = append(ids, l.SeriesID)
			}
		}
	}
	for _, id := range ids {
		if err := t.tend(ctx, id, leases, &rep); err != nil {
			return rep, err
		}
	}
	rep.Events, err = t.pullFeed(ctx)
	return rep, err
}

// pullFeed applies the feed's pages after the till's position until a
// page moves it no further, and returns how many events it read.
func (t *Till) pullFeed(ctx context.Context) (int, error) {
	events := 0
	for range maxFeedPages {
		at, err := t.j.FeedPosition(ctx)
		if err != nil {
			return events, err
		}
		p, err := t.cfg.Central.TillFeed(ctx, couponkit.TillFeedRequest{Till: t.cfg.ID, After: at})
		if err != nil {
			return events, fmt.Errorf("till: reading the feed: %w", err)
		}
		if err := t.j.ApplyFeed(ctx, p); err != nil {
			return events, err
		}
		events += len(p.Events)
		if p.Next.Compare(at) <= 0 {
			return events, nil
		}
	}
	return events, nil
}

// tend sizes the till's leases of one series (see Sync). A lease whose
// money is spent (a series with a budget) is no use offline: its uses
// left are returned, and it counts as none.
func (t *Till) tend(ctx context.Context, seriesID string, all []LeaseState, rep *SyncReport) error {
	now := t.cfg.Now()
	var usable []LeaseState
	left := int64(0)
	for _, l := range all {
		if l.SeriesID != seriesID || l.Closed || l.Left() <= 0 || !now.Before(l.End.Add(-t.j.skew)) {
			continue
		}
		if l.Money > 0 && l.MoneyLeft() <= 0 {
			c := Call{Key: fmt.Sprintf("%s/%s/%d/%d", lease.Return, l.ID, l.Returned, now.UnixNano()), Kind: lease.Return,
				SeriesID: seriesID, LeaseID: l.ID, Uses: l.Left()}
			if err := t.call(ctx, c, rep); err != nil {
				return err
			}
			continue
		}
		usable = append(usable, l)
		left += l.Left()
	}
	want, err := t.want(ctx, seriesID, now)
	if err != nil {
		return err
	}
	end := now.Add(t.cfg.LeaseFor)
	held := 0
	for _, l := range all {
		if l.SeriesID == seriesID {
			held++
		}
	}
	// A call's key names the state it changes and the time, so that no
	// two calls share one; a call left unanswered is sent again with it.
	key := func(k lease.Kind, id string, n int64) string {
		return fmt.Sprintf("%s/%s/%d/%d", k, id, n, now.UnixNano())
	}
	if len(usable) == 0 {
		if want <= 0 {
			return nil
		}
		return t.call(ctx, Call{Key: key(lease.Grant, seriesID, int64(held)), Kind: lease.Grant, SeriesID: seriesID, Uses: want, End: end}, rep)
	}
	l := usable[len(usable)-1] // the one ending last
	if l.End.Sub(now) < t.cfg.LeaseFor/2 {
		c := Call{Key: key(lease.Renew, l.ID, l.End.UnixNano()), Kind: lease.Renew, SeriesID: seriesID, LeaseID: l.ID, End: end}
		if err := t.call(ctx, c, rep); err != nil {
			return err
		}
	}
	switch {
	case left < (want+1)/2:
		return t.call(ctx, Call{Key: key(lease.TopUp, l.ID, l.Granted), Kind: lease.TopUp, SeriesID: seriesID, LeaseID: l.ID, Uses: want - left}, rep)
	case want > 0 && left > 2*want && l.Left() > 0:
		uses := min(l.Left(), left-want)
		return t.call(ctx, Call{Key: key(lease.Return, l.ID, l.Returned), Kind: lease.Return, SeriesID: seriesID, LeaseID: l.ID, Uses: uses}, rep)
	}
	return nil
}

// call writes c down (a return sets its uses aside) and sends it.
func (t *Till) call(ctx context.Context, c Call, rep *SyncReport) error {
	if err := t.j.BeginCall(ctx, c); err != nil {
		return err
	}
	return t.send(ctx, c, rep)
}

// send sends the call c written down and keeps the central's answer: the
// lease it answers (SettleCall), the series' remaining uses, and the
// action in rep. A refusal settles the call and is returned; a call left
// unanswered (Unanswered) stays written down, for the next Sync.
func (t *Till) send(ctx context.Context, c Call, rep *SyncReport) error {
	var res couponkit.LeaseResult
	var err error
	call := couponkit.LeaseCall{Till: t.cfg.ID, LeaseID: c.LeaseID, Key: c.Key, Uses: c.Uses, End: c.End}
	switch c.Kind {
	case lease.Grant:
		res, err = t.cfg.Central.GrantLease(ctx, couponkit.LeaseRequest{Till: t.cfg.ID, SeriesID: c.SeriesID, Key: c.Key, Uses: c.Uses, End: c.End})
	case lease.Renew:
		res, err = t.cfg.Central.RenewLease(ctx, call)
	case lease.TopUp:
		res, err = t.cfg.Central.TopUpLease(ctx, call)
	default:
		res, err = t.cfg.Central.ReturnLease(ctx, call)
	}
	if err != nil {
		if !Unanswered(err) {
			if serr := t.j.SettleCall(ctx, c.Key, nil); serr != nil {
				return serr
			}
		}
		return fmt.Errorf("till: %s of a lease of series %s: %w", c.Kind, c.SeriesID, err)
	}
	if err := t.j.SettleCall(ctx, c.Key, &res.Lease); err != nil {
		return err
	}
	t.mu.Lock()
	t.remaining[c.SeriesID] = res.Remaining
	t.mu.Unlock()
	rep.Leases = append(rep.Leases, LeaseAction{Kind: c.Kind, SeriesID: c.SeriesID, LeaseID: res.Lease.ID, Uses: c.Uses, End: c.End})
	return nil
}

// want is what the size policy asks of a series now: from the till's uses
// of it in the last hour and what the central last said the series had
// left (-1, no limit, until it says).
func (t *Till) want(ctx context.Context, seriesID string, now time.Time) (int64, error) {
	n, err := t.j.Uses(ctx, seriesID, now.Add(-time.Hour))
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	remaining, ok := t.remaining[seriesID]
	t.mu.Unlock()
	if !ok {
		remaining = -1
	}
	return t.cfg.Size(lease.SizeInput{Remaining: remaining, RatePerHour: float64(n), Duration: t.cfg.LeaseFor, Tills: t.cfg.Tills}), nil
}
