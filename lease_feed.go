package couponkit

import (
	"context"
	"slices"

	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// Sync down: what a till learns from the central between its uses, so
// that it decides offline with the coupon states the central knows.

// tillFeedScan bounds how many feed pages one TillFeed call reads while
// it skips other series' events.
const tillFeedScan = 8

func (r *TillFeedRequest) validate() error {
	if err := first(required("Till", r.Till), input.Text("Till", input.ID, r.Till)); err != nil {
		return err
	}
	_, err := store.FeedLimit(r.Limit)
	return err
}

// TillFeed is a till's sync down: the feed events after req.After of the
// series the till holds a lease of, open or closed (a till with a closed
// lease may still have uses in its journal to reconcile, and learns what
// happened to the codes it used), in feed order, at most req.Limit
// (store.DefaultFeedLimit when 0). The till learns revocations,
// redemptions at other tills or centrally, expiries, reissues and
// transfers of its series' coupons this way, and nothing of other series.
//
// Next is the position to ask from next: past the last event read, other
// series' events included, so that a till never reads them again; it is
// req.After when nothing was read. One call reads a bounded number of feed
// pages; a page with fewer events than Limit and Next past After means
// more may follow. Series is the current configuration of every series of
// the till's open leases, ordered by id: changes of a series
// (UpdateSeries) are learned from it, not from the events.
//
// A position past the store's last event is a *store.FuturePositionError.
func (e *Engine) TillFeed(ctx context.Context, req TillFeedRequest) (_ TillFeedPage, err error) {
	ctx, o := e.begin(ctx, observe.TillFeed, "")
	defer o.end(&err)
	if err := e.admit(req.validate()); err != nil {
		return TillFeedPage{}, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return TillFeedPage{}, err
	}
	leases, err := ls.Leases(ctx, store.LeaseQuery{Till: req.Till})
	if err != nil {
		return TillFeedPage{}, err
	}
	held, open := map[string]bool{}, []string{}
	for _, l := range leases {
		held[l.SeriesID] = true
		if l.Status == lease.Open && !slices.Contains(open, l.SeriesID) {
			open = append(open, l.SeriesID)
		}
	}
	page := TillFeedPage{Events: []store.FeedEvent{}, Next: req.After, Series: []series.Series{}}
	if err := e.tillEvents(ctx, held, req.Limit, &page); err != nil {
		return TillFeedPage{}, err
	}
	slices.Sort(open)
	for _, id := range open {
		s, err := e.st.Series(ctx, id)
		if err != nil {
			return TillFeedPage{}, err
		}
		page.Series = append(page.Series, s)
	}
	return page, nil
}

// tillEvents reads the feed from page.Next, adding the events of the held
// series to page.Events, until it has limit of them, reaches the end of
// the feed or has read tillFeedScan pages, and moves page.Next past what
// it read.
func (e *Engine) tillEvents(ctx context.Context, held map[string]bool, limit int, page *TillFeedPage) error {
	limit, err := store.FeedLimit(limit)
	if err != nil {
		return err
	}
	for range tillFeedScan {
		evs, next, err := e.st.EventsAfter(ctx, page.Next, limit)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if !held[ev.Event.SeriesID] {
				continue
			}
			page.Events = append(page.Events, ev)
			if len(page.Events) == limit {
				// The rest of this read is read again next time.
				page.Next = ev.Position
				return nil
			}
		}
		page.Next = next
		if len(evs) < limit {
			return nil
		}
	}
	return nil
}

// TillSeries returns the configuration of a series the till holds a lease
// of (open or closed), for its offline decisions. A series the till holds
// no lease of answers as one that does not exist (errcode.ErrNotFound), so
// a till learns nothing of other series.
func (e *Engine) TillSeries(ctx context.Context, till, seriesID string) (_ series.Series, err error) {
	ctx, o := e.begin(ctx, observe.TillSeries, "")
	defer o.end(&err)
	if err := e.admit(first(required("Till", till), input.Text("Till", input.ID, till), required("SeriesID", seriesID), idArg("SeriesID", seriesID))); err != nil {
		return series.Series{}, err
	}
	ls, err := e.leaseStore()
	if err != nil {
		return series.Series{}, err
	}
	leases, err := ls.Leases(ctx, store.LeaseQuery{Till: till, SeriesID: seriesID, Limit: 1})
	if err != nil {
		return series.Series{}, err
	}
	if len(leases) == 0 {
		// The store's own answer for a series it does not have.
		return series.Series{}, store.NotFound("series", seriesID)
	}
	return e.st.Series(ctx, seriesID)
}
