package couponkit

import (
	"context"
	"errors"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// IssueRequest asks for a coupon of a series for a customer.
type IssueRequest struct {
	SeriesID string      `json:"series_id"`
	Customer CustomerRef `json:"customer"`
	// Code, for an uploaded series, names the Available code to issue;
	// empty draws the next one from the pool.
	Code string `json:"code,omitempty"`
	// IdempotencyKey, optional, names this issue in its series (a CRM's
	// message id, a file and row): repeating the request with the same key
	// returns the first result and changes nothing, so a caller that lost
	// a reply can safely send the request again. It is stored with the
	// coupon (coupon.Coupon.IssueKey). Without a key, a request sent again
	// after a failure that left its outcome unknown (a timeout, a lost
	// connection) may issue a second coupon.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Actor          string `json:"actor,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// IssueResult is the coupon issued, or re-sent.
type IssueResult struct {
	Coupon coupon.Coupon `json:"coupon"`
	// Resent is true when the customer could be issued no further coupon
	// and the series says to send the existing valid one again: Coupon is
	// that one, and nothing changed.
	Resent bool `json:"resent,omitempty"`
	// Replayed is true when the idempotency key had issued a coupon before,
	// with the same parameters: Coupon is that coupon as it is now, and
	// nothing changed.
	Replayed bool `json:"replayed,omitempty"`
}

// Issue issues a coupon of the series to the customer, under every issuance
// setting of the series: per-customer maximum and gap, series maximum, the
// audience list, exclusion by other series, one common code per customer.
// The code comes from the series' source: the common code, the next
// generated code, or the next Available code of the pool (PoolEmpty when
// there is none). When the customer may be issued no further coupon and the
// series says SendExisting, the customer's valid coupon is returned with
// Resent set. A refusal by the rules is a *refusal.Error listing every
// broken rule with the figures that explain it.
//
// The idempotency key, when given, names this issue in its series. The same
// key with the same customer (and, when the request names one, the same
// code) returns the coupon it issued, as it is now, with Replayed set and
// changes nothing, even when the rules would now refuse a further issue (the
// customer's maximum, an empty pool, the series' maximum, a paused series);
// the customer compared is the one the coupon was first issued to, even
// after a transfer. With another customer or code it is refused with
// ErrKeyMismatch naming the parameter ("Customer", "Code"), and nothing
// changes. Two requests with one key sent at once issue one coupon.
func (e *Engine) Issue(ctx context.Context, req IssueRequest) (IssueResult, error) {
	ctx, o := e.begin(ctx, observe.Issue, "")
	res, err := e.issue(ctx, req)
	o.end(&err)
	return res, err
}

// issue is Issue, unobserved: IssueBatch issues one at a time with it.
func (e *Engine) issue(ctx context.Context, req IssueRequest) (IssueResult, error) {
	if err := e.admit(req.validate()); err != nil {
		return IssueResult{}, err
	}
	cust, err := e.customers.Resolve(ctx, req.Customer)
	if err != nil {
		return IssueResult{}, err
	}
	var out IssueResult
	var after store.Count
	var s series.Series
	err = e.retry(ctx, func() error {
		var err error
		out, s, after, err = e.issueOnce(ctx, req, cust)
		return err
	})
	if err != nil {
		return IssueResult{}, err
	}
	if !out.Resent && !out.Replayed {
		e.notifyRemaining(ctx, &s, after.N)
	}
	return out, nil
}

func (e *Engine) issueOnce(ctx context.Context, req IssueRequest, cust Customer) (IssueResult, series.Series, store.Count, error) {
	now := e.now()
	s, err := e.st.Series(ctx, req.SeriesID)
	if err != nil {
		return IssueResult{}, s, store.Count{}, err
	}
	res, after, err := e.issueIn(ctx, &s, &req, cust.ID, now)
	if err == nil {
		return res, s, after, nil
	}
	// A request that repeats a key returns the first result, even when one
	// more issue would now be refused; a write that collided with the key
	// (the same request sent twice at once) replays too.
	if req.IdempotencyKey != "" && mayRepeat(err) {
		if replayed, rerr := e.replayIssue(ctx, &s, &req, cust.ID, &res); replayed || rerr != nil {
			return res, s, store.Count{}, rerr
		}
	}
	var denied *issueDenied
	var ex *store.ExistsError
	switch {
	case errors.As(err, &denied):
		res, err = e.refuseIssue(ctx, &s, cust.ID, &denied.d, now)
	case errors.As(err, &ex) && ex.Kind == issueKeyKind:
		// The key's coupon was written after the collision was seen:
		// read again.
		err = &store.ConflictError{Kind: "coupon", ID: ex.Key}
	}
	return res, s, store.Count{}, err
}

// issueDenied is the outcome of an issue the rules deny, before the series'
// OnQualifyAgain and the request's idempotency key are considered.
type issueDenied struct{ d issueDecision }

func (e *issueDenied) Error() string { return e.d.refused().Error() }

// issueIn issues a coupon of s as req asks, unless the rules deny it (an
// *issueDenied) or something else refuses or fails it. It checks what the
// series takes (checkIssue), reads the facts of the issuance rules
// (readIssue), decides (decideIssue), draws or mints the coupon
// (freshCoupon) and writes the change issueChange makes.
func (e *Engine) issueIn(ctx context.Context, s *series.Series, req *IssueRequest, customer string, now time.Time) (IssueResult, store.Count, error) {
	loc, err := e.location(s)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	at := now.In(loc)
	if err := checkIssue(s, req.Code, at); err != nil {
		return IssueResult{}, store.Count{}, err
	}
	snap, err := e.readIssue(ctx, s, customer, at)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	d := decideIssue(s, &snap, at)
	if !d.Allowed() {
		return IssueResult{}, store.Count{}, &issueDenied{d}
	}
	fresh, minted, claim, err := e.freshCoupon(ctx, s, req.Code, req.Actor)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	defer claim.release()
	ch, issued, err := issueChange(s.ID, &d, fresh, minted, req, customer, now, e)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	ch.Sequence = claim.advance()
	ch.Notices = thresholdNotice(s, now, e)
	if err := e.st.Apply(ctx, ch); err != nil {
		var ex *store.ExistsError
		if errors.As(err, &ex) && ex.Kind != issueKeyKind && s.Source.SharedCode() {
			// The customer holds the common code already: issued it
			// concurrently, or received it by transfer (which bumps no issue
			// counter, so deciding again would not see it). Either way this
			// is a second issue of one common code.
			d.Deny(limits.CommonCodeIssued)
			return IssueResult{}, store.Count{}, &issueDenied{d}
		}
		return IssueResult{}, store.Count{}, lostMintRace(ch, err)
	}
	return IssueResult{Coupon: issued.In(loc)}, ch.Bumps[0].After, nil
}

// checkIssue refuses, before anything is read, an issue in s at at (in the
// series' time zone) naming code: a series not open at at, or a code the
// series does not take.
func checkIssue(s *series.Series, code string, at time.Time) error {
	if err := checkOpen(s, at); err != nil {
		return err
	}
	return checkChosenCode(s, code)
}

// issueChange is the change that issues fresh to customer at now under the
// allowed decision d, in the series with id seriesID: fresh inserted when
// minted, else updated from its version; its Issued event, with its id from
// ids; and a bump of each issue counter under the rules' guard. It returns
// the coupon issued. A minted code's sequence advance is the caller's to
// set.
func issueChange(seriesID string, d *issueDecision, fresh coupon.Coupon, minted bool, req *IssueRequest, customer string, now time.Time, ids idSource) (*store.Change, coupon.Coupon, error) {
	issued, ev, err := coupon.Issue(fresh, customer, now, d.expires, req.Actor)
	if err != nil {
		return nil, issued, err
	}
	issued.IssueKey = req.IdempotencyKey
	ev.ID, ev.Reason = ids.nextID(), req.Reason
	keys := issueKeys(seriesID, customer)
	ch := &store.Change{Bumps: guardedBumps(nil, d.Guards(), keys[:], now), Events: []coupon.Event{ev}}
	if minted {
		ch.NewCoupons = []coupon.Coupon{issued}
	} else {
		ch.Coupons = []store.CouponUpdate{{Coupon: issued, ExpectVersion: fresh.Version}}
	}
	return ch, issued, nil
}

// refuseIssue answers an issue the rules deny: when the customer may be
// issued no further coupon and the series says SendExisting, with the
// customer's valid coupon (Resent); otherwise with a *refusal.Error.
func (e *Engine) refuseIssue(ctx context.Context, s *series.Series, customer string, d *issueDecision, now time.Time) (IssueResult, error) {
	if s.Issuance.OnQualifyAgain == series.SendExisting &&
		(d.Violates(limits.CustomerIssueLimit) || d.Violates(limits.CommonCodeIssued)) {
		if c, ok, err := e.validCouponOf(ctx, s.ID, customer, now); err != nil || ok {
			return IssueResult{Coupon: c.In(d.at.Location()), Resent: ok}, err
		}
	}
	return IssueResult{}, d.refused()
}

// issueDecision is the outcome of the issuance rules for one customer, with
// the facts it was decided on, which a refusal reports, and the expiry of
// the coupon it issues.
type issueDecision struct {
	limits.Decision
	rules         limits.IssuanceRules
	counts        limits.IssuanceCounts
	at            time.Time // the request time, in the series' zone
	excludedUntil time.Time
	expires       time.Time // the series' expiry for a coupon issued at at
}

// refused is the refusal of a decision that does not allow.
func (d *issueDecision) refused() error {
	return &refusal.Error{Refusals: refusal.ForIssue(&refusal.Issue{
		Decision: &d.Decision, Rules: &d.rules, Counts: &d.counts, At: d.at, ExcludedUntil: d.excludedUntil})}
}

// issueSnapshot is what the issuance rules read of the store for one
// customer: the series' and the customer's issue counters, audience
// membership, and when an exclusion by another series ends (zero: none).
type issueSnapshot struct {
	series, customer store.Count
	inAudience       bool
	excludedUntil    time.Time
}

// readIssue reads the issuance facts of customer in s at at, in the
// series' time zone: the customer's counter only where the rules decide on
// it, the audience only where the series issues to its list only, the
// exclusion only where it excludes.
func (e *Engine) readIssue(ctx context.Context, s *series.Series, customer string, at time.Time) (issueSnapshot, error) {
	var snap issueSnapshot
	keys := issueKeys(s.ID, customer)
	read := issueReadKeys(s, keys[:])
	var counts [2]store.Count
	if err := e.st.Counters(ctx, read, counts[:len(read)]); err != nil {
		return snap, err
	}
	snap.series, snap.customer = counts[0], counts[1]
	if s.EffectiveIssuance().AudienceOnly {
		in, err := e.st.InAudience(ctx, s.ID, customer)
		if err != nil {
			return snap, err
		}
		snap.inAudience = in
	}
	until, err := e.excluded(ctx, s, customer, at)
	snap.excludedUntil = until
	return snap, err
}

// decideIssue evaluates the series' issuance rules over snap at at, which
// is in the series' time zone.
func decideIssue(s *series.Series, snap *issueSnapshot, at time.Time) issueDecision {
	d := issueDecision{rules: s.EffectiveIssuance(), at: at, excludedUntil: snap.excludedUntil, expires: s.ExpiresAt(at, at.Location())}
	q := limits.IssuanceRequest{At: at, InAudience: snap.inAudience, Excluded: !snap.excludedUntil.IsZero()}
	d.counts = limits.IssuanceCounts{Series: snap.series.N, Customer: snap.customer.N, CustomerLast: snap.customer.Last}
	d.Decision = limits.EvaluateIssuance(&d.rules, &d.counts, &q)
	return d
}

// excluded returns when the customer's exclusion from s ends: zero when
// they were issued no coupon of one of the series' excluding series within
// its exclusion window.
func (e *Engine) excluded(ctx context.Context, s *series.Series, customer string, now time.Time) (time.Time, error) {
	if !excludes(s) {
		return time.Time{}, nil
	}
	keys := exclusionKeys(nil, s, customer)
	xs := make([]store.Count, len(keys))
	if err := e.st.Counters(ctx, keys, xs); err != nil {
		return time.Time{}, err
	}
	return excludedBy(s, xs, now), nil
}

// excludes reports whether s refuses customers recently issued a coupon of
// other series.
func excludes(s *series.Series) bool {
	return len(s.Issuance.ExcludeSeries) > 0 && s.Issuance.ExcludeWithinMonths > 0
}

// exclusionKeys appends the counters that tell whether customer was issued
// a coupon of a series s excludes, one per excluding series.
func exclusionKeys(dst []store.CounterKey, s *series.Series, customer string) []store.CounterKey {
	for _, id := range s.Issuance.ExcludeSeries {
		dst = append(dst, store.CounterKey{Counter: limits.CustomerIssued, Series: id, Customer: customer})
	}
	return dst
}

// excludedBy returns when the exclusion the counters of exclusionKeys, read
// now, put on the customer ends: the latest issue of a coupon of an
// excluding series within s.Issuance.ExcludeWithinMonths, plus that window;
// zero when there is none.
func excludedBy(s *series.Series, counts []store.Count, now time.Time) time.Time {
	months := s.Issuance.ExcludeWithinMonths
	since := now.AddDate(0, -months, 0)
	var until time.Time
	for _, x := range counts {
		if x.N > 0 && x.Last.After(since) {
			if end := x.Last.In(now.Location()).AddDate(0, months, 0); end.After(until) {
				until = end
			}
		}
	}
	return until
}

// validCouponOf returns a coupon of the series the customer holds and can
// use now.
func (e *Engine) validCouponOf(ctx context.Context, seriesID, customer string, now time.Time) (coupon.Coupon, bool, error) {
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{
		SeriesID: seriesID, Holder: customer, States: []coupon.State{coupon.Issued}}})
	if err != nil {
		return coupon.Coupon{}, false, err
	}
	for _, c := range cs {
		if c.Usable(now) {
			return c, true, nil
		}
	}
	return coupon.Coupon{}, false, nil
}

// notifyRemaining calls OnRemaining when the issue that brought the series'
// issued count to issued left exactly NotifyRemaining issuable coupons.
// Counters move one at a time under their guard, so exactly one issue sees
// the threshold. (The same issue wrote the durable record of it, the
// IssuanceThreshold event of thresholdNotice.)
func (e *Engine) notifyRemaining(ctx context.Context, s *series.Series, issued int64) {
	e.notifyCrossing(ctx, s, issued-1, issued)
}

// notifyCrossing calls OnRemaining once when issues took the series' issued
// count from before to after and passed the point where exactly
// NotifyRemaining coupons remain issuable.
func (e *Engine) notifyCrossing(ctx context.Context, s *series.Series, before, after int64) {
	n, max := s.Issuance.NotifyRemaining, int64(s.Issuance.MaxTotal)
	if e.onRemaining == nil || n <= 0 || max <= 0 {
		return
	}
	if at := max - n; before < at && at <= after {
		e.onRemaining(ctx, s.ID, n)
	}
}
