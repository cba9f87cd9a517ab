package couponkit

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/internal/input"
	"github.com/couponkit/couponkit/limits"
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
// *issueDenied) or something else refuses or fails it.
func (e *Engine) issueIn(ctx context.Context, s *series.Series, req *IssueRequest, customer string, now time.Time) (IssueResult, store.Count, error) {
	loc, err := e.location(s)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	if err := checkOpen(s, now.In(loc)); err != nil {
		return IssueResult{}, store.Count{}, err
	}
	if err := checkChosenCode(s, req.Code); err != nil {
		return IssueResult{}, store.Count{}, err
	}
	d, err := e.decideIssue(ctx, s, customer, now.In(loc))
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	if !d.Allowed() {
		return IssueResult{}, store.Count{}, &issueDenied{d}
	}
	fresh, minted, claim, err := e.freshCoupon(ctx, s, req.Code, req.Actor)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	defer claim.release()
	issued, ev, err := coupon.Issue(fresh, customer, now, s.ExpiresAt(now, loc), req.Actor)
	if err != nil {
		return IssueResult{}, store.Count{}, err
	}
	issued.IssueKey = req.IdempotencyKey
	ev.ID, ev.Reason = e.newID(), req.Reason
	keys := issueKeys(s.ID, customer)
	ch := &store.Change{Bumps: guardedBumps(nil, d.Guards(), keys[:], now), Events: []coupon.Event{ev}, Sequence: claim.advance()}
	if minted {
		ch.NewCoupons = []coupon.Coupon{issued}
	} else {
		ch.Coupons = []store.CouponUpdate{{Coupon: issued, ExpectVersion: fresh.Version}}
	}
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
		return IssueResult{}, store.Count{}, err
	}
	return IssueResult{Coupon: issued.In(loc)}, ch.Bumps[0].After, nil
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
// the facts it was decided on, which a refusal reports.
type issueDecision struct {
	limits.Decision
	rules         limits.IssuanceRules
	counts        limits.IssuanceCounts
	at            time.Time // the request time, in the series' zone
	excludedUntil time.Time
}

// refused is the refusal of a decision that does not allow.
func (d *issueDecision) refused() error {
	return &refusal.Error{Refusals: refusal.ForIssue(&refusal.Issue{
		Decision: &d.Decision, Rules: &d.rules, Counts: &d.counts, At: d.at, ExcludedUntil: d.excludedUntil})}
}

// decideIssue evaluates the series' issuance rules for a customer at now,
// which is in the series' time zone.
func (e *Engine) decideIssue(ctx context.Context, s *series.Series, customer string, now time.Time) (issueDecision, error) {
	d := issueDecision{rules: s.EffectiveIssuance(), at: now}
	keys := issueKeys(s.ID, customer)
	var counts [2]store.Count
	if err := e.st.Counters(ctx, keys[:], counts[:]); err != nil {
		return d, err
	}
	q := limits.IssuanceRequest{At: now}
	if d.rules.AudienceOnly {
		in, err := e.st.InAudience(ctx, s.ID, customer)
		if err != nil {
			return d, err
		}
		q.InAudience = in
	}
	until, err := e.excluded(ctx, s, customer, now)
	if err != nil {
		return d, err
	}
	q.Excluded, d.excludedUntil = !until.IsZero(), until
	d.counts = limits.IssuanceCounts{Series: counts[0].N, Customer: counts[1].N, CustomerLast: counts[1].Last}
	d.Decision = limits.EvaluateIssuance(&d.rules, &d.counts, &q)
	return d, nil
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
// the threshold.
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

// UploadRow is one code to add to a series' pool, optionally already issued
// to a customer, with an optional expiry of its own.
type UploadRow struct {
	Code string `json:"code"`
	// Customer, when set, is who the code is issued to at once.
	Customer CustomerRef `json:"customer,omitzero"`
	// ExpiresAt, when set, is the code's own expiry: once issued, the
	// coupon expires at the earlier of it and the series' expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// UploadResult reports an upload: how many codes were added, and each row
// refused, by row index.
type UploadResult struct {
	Added   int        `json:"added"`
	Skipped int        `json:"skipped"` // codes already in the series
	Failed  []RowError `json:"failed,omitempty"`
}

// RowError is one refused row of a bulk operation.
//
// In JSON it is {"row": 3, "error": {...}}, the error in one of two forms:
//
//   - a refusal by the rules or the coupon's state (a *refusal.Error) is
//     {"refusals": [...]}, each refusal with its code, rule, message and
//     parameters, and reads back as a *refusal.Error with those refusals;
//   - any other error is {"code": 1402, "field": "Code", "message": "..."}:
//     the code and field of the *errcode.Error in it (code 0 when there is
//     none) and its message, where the text of a cause or of a wrapping
//     error is kept. It reads back as an *errcode.Error with that code,
//     field and message: the same error when it was an *errcode.Error
//     without a cause.
type RowError struct {
	Row int   `json:"row"` // index of the row in the input, from 0
	Err error `json:"-"`   // an *errcode.Error, or a *refusal.Error when the rules refused the row's issue
}

// UploadRequest is a batch of codes for the pool of an Uploaded or
// ThirdParty series.
type UploadRequest struct {
	SeriesID string      `json:"series_id"`
	Rows     []UploadRow `json:"rows"`
	// Actor is recorded on the events of every row.
	Actor string `json:"actor,omitempty"`
}

// Upload adds codes to an Uploaded or ThirdParty series' pool in one batch.
// Then each row with a customer, in order, is issued to that customer
// under the series' issuance rules, expiring at the earlier of the row's
// own expiry and the series'; a row whose issue is refused stays in the
// pool and is reported in Failed. Codes already in the series are not
// added again, and a row whose customer already holds its code succeeds,
// so an interrupted upload can be run again. Invalid rows are reported and
// the others still added.
func (e *Engine) Upload(ctx context.Context, req UploadRequest) (UploadResult, error) {
	seriesID, rows, actor := req.SeriesID, req.Rows, req.Actor
	if err := e.admit(first(idArg("SeriesID", seriesID), input.Text("Actor", input.Actor, actor))); err != nil {
		return UploadResult{}, err
	}
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return UploadResult{}, err
	}
	if k := s.Source.Kind; k != series.Uploaded && k != series.ThirdParty {
		return UploadResult{}, errcode.New(errcode.InvalidArgument, "SeriesID", "series "+s.ID+" does not take uploaded codes")
	}
	now := e.now()
	var res UploadResult
	var pool []coupon.Coupon
	var events []coupon.Event
	var issue []int // rows with a customer, issued after the pool insert
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		if err := input.WithinAt("Rows", i, r.validate()); err != nil {
			res.Failed = append(res.Failed, RowError{Row: i, Err: err})
			continue
		}
		canon, err := canonicalCode(r.Code)
		if err != nil || !validUploadCode(canon) {
			res.Failed = append(res.Failed, RowError{Row: i, Err: errcode.New(errcode.InvalidCode, "Code", "code "+strconv.Quote(r.Code)+" is empty or has characters other than letters, digits, '-' and '_'")})
			continue
		}
		if seen[canon] {
			res.Failed = append(res.Failed, RowError{Row: i, Err: errcode.New(errcode.AlreadyExists, "Code", "code "+strconv.Quote(r.Code)+" appears twice in the upload")})
			continue
		}
		seen[canon] = true
		c, ev, err := coupon.New(coupon.NewParams{ID: e.newID(), SeriesID: s.ID, Code: strings.TrimSpace(r.Code), Canonical: canon, ExpiresAt: r.ExpiresAt, Actor: actor}, now)
		if err != nil {
			res.Failed = append(res.Failed, RowError{Row: i, Err: err})
			continue
		}
		ev.ID = e.newID()
		pool, events = append(pool, c), append(events, ev)
		if !r.Customer.IsZero() {
			issue = append(issue, i)
		}
	}
	n, err := e.st.InsertCoupons(ctx, pool, events)
	if err != nil {
		return res, err
	}
	res.Added, res.Skipped = n, len(pool)-n
	for _, i := range issue {
		if err := e.issueUploaded(ctx, s.ID, rows[i], actor); err != nil {
			res.Failed = append(res.Failed, RowError{Row: i, Err: err})
		}
	}
	return res, nil
}

// validUploadCode reports whether a canonical uploaded code has only
// letters, digits, '-' and '_'.
func validUploadCode(code string) bool {
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return len(code) <= maxCodeLen
}

// maxCodeLen is the longest code couponkit stores.
const maxCodeLen = 64

// issueUploaded issues an uploaded row's code to its customer. A code the
// same customer already holds is fine (the upload is being run again); a
// code someone else holds is refused with AlreadyIssued.
func (e *Engine) issueUploaded(ctx context.Context, seriesID string, row UploadRow, actor string) error {
	_, err := e.Issue(ctx, IssueRequest{SeriesID: seriesID, Customer: row.Customer, Code: row.Code, Actor: actor, Reason: "upload"})
	if !errors.Is(err, errcode.ErrAlreadyIssued) {
		return err
	}
	cust, cerr := e.customers.Resolve(ctx, row.Customer)
	if cerr != nil {
		return cerr
	}
	canon, cerr := canonicalCode(row.Code)
	if cerr != nil {
		return cerr
	}
	cs, lerr := e.st.CouponsByCode(ctx, seriesID, canon)
	if lerr != nil {
		return lerr
	}
	if len(cs) == 1 && cs[0].Holder == cust.ID {
		return nil
	}
	return err
}
