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
// recorded and given back, and uploaded); then, for each series it keeps a lease of
// (Config.Series), sizes its leases by the size policy from the till's
// uses of the series in the last hour (its journal): it grants a lease
// when it has none usable, renews one that has less than half of LeaseFor
// to run, tops up when less than half of what the policy wants is left,
// and returns what is left beyond twice that, keeping each lease the
// central answers ([Journal.PutLease]); last, it reads the feed from the
// till's position until it is caught up ([Journal.ApplyFeed]). The leases
// come before the feed because the central's feed tells a till of the
// series it holds a lease of: a till's first lease of a series must be
// granted before it reads past that series' events. A return is taken
// off what the till may use before it is sent, so that a return whose
// answer is lost leaves the till none of the uses the central may have
// taken back (the central's next answer about the lease sets them). It
// stops at the first failure and returns what it did so far.
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

// tend sizes the till's leases of one series (see Sync).
func (t *Till) tend(ctx context.Context, seriesID string, all []LeaseState, rep *SyncReport) error {
	now := t.cfg.Now()
	var usable []LeaseState
	left := int64(0)
	for _, l := range all {
		if l.SeriesID == seriesID && !l.Closed && l.Left() > 0 && now.Before(l.End.Add(-t.j.skew)) {
			usable = append(usable, l)
			left += l.Left()
		}
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
	// two calls share one (a lease call's answer lost is not asked again:
	// its uses stay escrowed until the lease lapses).
	key := func(k lease.Kind, id string, n int64) string {
		return fmt.Sprintf("%s/%s/%d/%d", k, id, n, now.UnixNano())
	}
	if len(usable) == 0 {
		if want <= 0 {
			return nil
		}
		req := couponkit.LeaseRequest{Till: t.cfg.ID, SeriesID: seriesID, Key: key(lease.Grant, seriesID, int64(held)), Uses: want, End: end}
		res, err := t.cfg.Central.GrantLease(ctx, req)
		return t.keep(ctx, LeaseAction{Kind: lease.Grant, SeriesID: seriesID, Uses: want, End: end}, res, err, rep)
	}
	l := usable[len(usable)-1] // the one ending last
	call := couponkit.LeaseCall{Till: t.cfg.ID, LeaseID: l.ID}
	if l.End.Sub(now) < t.cfg.LeaseFor/2 {
		call.Key, call.End = key(lease.Renew, l.ID, l.End.UnixNano()), end
		res, err := t.cfg.Central.RenewLease(ctx, call)
		if err := t.keep(ctx, LeaseAction{Kind: lease.Renew, SeriesID: seriesID, LeaseID: l.ID, End: end}, res, err, rep); err != nil {
			return err
		}
		call.End = time.Time{}
	}
	switch {
	case left < (want+1)/2:
		call.Key, call.Uses = key(lease.TopUp, l.ID, l.Granted), want-left
		res, err := t.cfg.Central.TopUpLease(ctx, call)
		return t.keep(ctx, LeaseAction{Kind: lease.TopUp, SeriesID: seriesID, LeaseID: l.ID, Uses: call.Uses}, res, err, rep)
	case want > 0 && left > 2*want && l.Left() > 0:
		call.Key, call.Uses = key(lease.Return, l.ID, l.Returned), min(l.Left(), left-want)
		// Unusable here before the call: a return the central makes but
		// whose answer is lost must not leave the till those uses (one
		// used would count on the series again). The central's next
		// answer about the lease sets what it returned.
		if err := t.j.markReturned(ctx, l.ID, call.Uses); err != nil {
			return err
		}
		res, err := t.cfg.Central.ReturnLease(ctx, call)
		return t.keep(ctx, LeaseAction{Kind: lease.Return, SeriesID: seriesID, LeaseID: l.ID, Uses: call.Uses}, res, err, rep)
	}
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

// keep records a lease call's answer: the lease in the journal, the
// series' remaining uses, and the action in rep.
func (t *Till) keep(ctx context.Context, a LeaseAction, res couponkit.LeaseResult, err error, rep *SyncReport) error {
	if err != nil {
		return fmt.Errorf("till: %s of a lease of series %s: %w", a.Kind, a.SeriesID, err)
	}
	if err := t.j.PutLease(ctx, res.Lease); err != nil {
		return err
	}
	t.mu.Lock()
	t.remaining[a.SeriesID] = res.Remaining
	t.mu.Unlock()
	a.LeaseID = res.Lease.ID
	rep.Leases = append(rep.Leases, a)
	return nil
}
