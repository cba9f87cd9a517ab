package couponkit

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/couponkit/couponkit/codegen"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// IssueOutcome is what one request of IssueBatch came to: the result, or
// the error Issue would have returned for it.
type IssueOutcome struct {
	Result IssueResult
	Err    error
}

// IssueBatch issues one coupon per request, in order, all from one series,
// with exactly the rules of Issue: each outcome is what Issue would have
// returned had the requests been made one after another. It decides the
// whole batch from one snapshot and writes it as one change, which is what
// makes bulk issuing fast on a SQL store. When that cannot be done (a request
// names a code, the series re-sends existing coupons, a generated series
// still has a pool, or a concurrent change moved a counter since the
// snapshot) it issues the requests one by one instead, with the same
// outcomes.
//
// Requests may carry idempotency keys, as Issue's do: the keys of the batch
// are read in one go, and a request whose key issued a coupon before is
// answered as Issue would answer it (that coupon, Replayed, or
// ErrKeyMismatch). Requests sharing a key in one batch behave as if sent
// one after another: the first that is issued issues, the later ones
// replay it.
//
// A series whose codes the engine makes issues as many as its code space
// has room for: each allowed request past that is refused as Issue would
// refuse it (PoolEmpty, wrapping CapacityExceeded or FillRatioExceeded),
// and neither it nor a request refused by the rules moves the series' code
// sequence. An error of one request (refused by the rules, unknown
// customer, pool empty) is in its outcome. A failure that stops the batch
// (the context ends, the store fails, conflicts outlast the retries, the
// series is paused or ends) is returned as the error, with the outcomes of
// the requests before the one that met it. Whether the requests from
// len(outcomes) on were issued is then unknown: a store that failed while
// committing may have written them. Running the same batch again issues
// each request that has an idempotency key exactly once (those already
// issued replay); a request without a key may be issued twice.
func (e *Engine) IssueBatch(ctx context.Context, reqs []IssueRequest) (_ []IssueOutcome, err error) {
	ctx, o := e.begin(ctx, observe.IssueBatch, "")
	defer o.end(&err)
	out := make([]IssueOutcome, len(reqs))
	if err := e.admit(nil); err != nil || len(reqs) == 0 {
		return out[:0], err
	}
	ok, err := e.issueBatchOnce(ctx, reqs, out)
	if err != nil {
		return out[:0], err
	}
	if ok {
		return out, nil
	}
	return e.issueEach(ctx, reqs, out)
}

// issueEach issues the requests one by one, as IssueBatch does when the
// one-change path cannot be taken.
func (e *Engine) issueEach(ctx context.Context, reqs []IssueRequest, out []IssueOutcome) ([]IssueOutcome, error) {
	for i, r := range reqs {
		res, err := e.issue(ctx, r)
		if stopsBatch(err) {
			return out[:i], err
		}
		out[i] = IssueOutcome{Result: res, Err: err}
	}
	return out, nil
}

// stopsBatch reports whether err ends a batch rather than one request.
func stopsBatch(err error) bool {
	if err == nil {
		return false
	}
	var r *refusal.Error
	if errors.As(err, &r) && !r.Has(errcode.SeriesExpired) && !r.Has(errcode.SeriesPaused) {
		return false
	}
	switch errcode.CodeOf(err) {
	case 0, errcode.Unavailable, errcode.Conflict, errcode.InvalidConfig, errcode.SeriesExpired, errcode.SeriesPaused:
		return true
	}
	return false
}

// issueBatch is what the one-change path of IssueBatch reads and decides.
type issueBatch struct {
	s      *series.Series
	loc    *time.Location
	now    time.Time
	g      *codegen.Generator // nil for a series of a shared code
	claim  *seqClaim          // its claim of the code sequence
	room   int64              // how many codes the claim can mint
	custs  []string           // each request's customer id; "" when it did not resolve
	slot   map[string]int     // customer -> index of its CustomerIssued counter in counts
	counts []store.Count      // counts[0] is the series' issued counter
	facts  map[string]issueFact
	known  map[string]coupon.Coupon // by idempotency key, the coupons issued before
	// firstTo is, by idempotency key, the customer the known coupon was
	// first issued to (issuedTo).
	firstTo map[string]string
	// replayOf[i] is the request of the batch whose coupon request i
	// replays (it repeats its key), or -1.
	replayOf []int
}

// issueBatchOnce tries the one-change path. It reports false, having
// written nothing, when the batch must be issued one by one.
func (e *Engine) issueBatchOnce(ctx context.Context, reqs []IssueRequest, out []IssueOutcome) (bool, error) {
	p, ok, err := e.prepareBatch(ctx, reqs, out, nil)
	if !ok || err != nil {
		return false, err
	}
	return e.applyBatch(ctx, p, e.applyPrepared(ctx, p))
}

// batchSeries returns the series of a batch that the one-change path can
// issue: one series for every request, no request naming a code or
// invalid, and a series open now that makes its codes without a pool and
// sends nothing again.
func (e *Engine) batchSeries(ctx context.Context, reqs []IssueRequest) (*series.Series, bool) {
	seriesID := reqs[0].SeriesID
	for _, r := range reqs {
		if r.SeriesID != seriesID || r.Code != "" || r.validate() != nil {
			return nil, false
		}
	}
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return nil, false // every request reports it, one by one
	}
	kind := s.Source.Kind
	if s.Issuance.OnQualifyAgain == series.SendExisting || kind == series.Uploaded || kind == series.ThirdParty {
		return nil, false
	}
	now := e.now()
	if err := checkOpen(&s, now); err != nil {
		return nil, false
	}
	if kind == series.Generated {
		if _, inPool, err := e.drawFromPool(ctx, s.ID, now); err != nil || inPool {
			return nil, false
		}
	}
	return &s, true
}

// readBatch resolves the customers of a batch (a request whose customer
// does not resolve gets the error in its outcome) and reads every counter
// the rules decide on and every fact and issue key the batch needs, each
// kind at once, and for each key that issued before, the customer it
// issued to first.
func (e *Engine) readBatch(ctx context.Context, b *issueBatch, reqs []IssueRequest, out []IssueOutcome) error {
	b.custs = make([]string, len(reqs))
	b.slot = map[string]int{}
	keys := []store.CounterKey{{Counter: limits.SeriesIssued, Series: b.s.ID}}
	for i, r := range reqs {
		c, err := e.customers.Resolve(ctx, r.Customer)
		if err != nil {
			out[i].Err = err
			continue
		}
		b.custs[i] = c.ID
		if _, seen := b.slot[c.ID]; !seen {
			b.slot[c.ID] = len(keys)
			keys = append(keys, issueKeys(b.s.ID, c.ID)[1])
		}
	}
	// The counters are read before the keys, never at once: a keyed issue
	// committed between the two reads is then seen by the keys (a replay),
	// where read the other way round it would be seen by the counters
	// alone (a refusal: the customer has the code).
	b.counts = make([]store.Count, len(keys))
	keys = issueReadKeys(b.s, keys)
	if err := e.st.Counters(ctx, keys, b.counts[:len(keys)]); err != nil {
		return err
	}
	var err error
	if b.facts, err = e.issueFacts(ctx, b.s, b.slot, b.now); err != nil {
		return err
	}
	if b.known, err = e.issuedByKeys(ctx, b.s.ID, reqs); err != nil {
		return err
	}
	b.firstTo = make(map[string]string, len(b.known))
	for key, c := range b.known {
		if b.firstTo[key], err = e.issuedTo(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}

// issuedByKeys reads, in one query, the coupons of the series issued with
// the idempotency keys of reqs, by key.
func (e *Engine) issuedByKeys(ctx context.Context, seriesID string, reqs []IssueRequest) (map[string]coupon.Coupon, error) {
	var keys []string
	seen := map[string]bool{}
	for _, r := range reqs {
		if k := r.IdempotencyKey; k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID, IssueKeys: keys}})
	if err != nil {
		return nil, err
	}
	known := make(map[string]coupon.Coupon, len(cs))
	for _, c := range cs {
		known[c.IssueKey] = c
	}
	return known, nil
}

// decideBatch decides the requests of a batch in order, counting each
// allowance as the store will, and returns the requests allowed. A request
// whose key issued before is answered as Issue answers it; one whose key
// an earlier allowed request of the batch carries replays that request
// (b.replayOf) or, for another customer, is refused with ErrKeyMismatch.
// It reads nothing: the customers the known keys were first issued to are
// in b.firstTo.
// An allowed request past the room of the claim is refused as Issue would
// refuse it: no code is left to mint.
func decideBatch(b *issueBatch, reqs []IssueRequest, out []IssueOutcome) []int {
	at := b.now.In(b.loc)
	b.replayOf = make([]int, len(reqs))
	pending := map[string]int{} // key -> the allowed request that carries it
	var allowed []int
	for i, id := range b.custs {
		b.replayOf[i] = -1
		if id == "" {
			continue
		}
		if key := reqs[i].IdempotencyKey; key != "" {
			if c, ok := b.known[key]; ok {
				if b.firstTo[key] != id {
					out[i].Err = keyMismatch("Customer", "another customer")
				} else {
					out[i].Result = IssueResult{Coupon: c.In(b.loc), Replayed: true}
				}
				continue
			}
			if j, ok := pending[key]; ok {
				if b.custs[j] != id {
					out[i].Err = keyMismatch("Customer", "another customer")
				} else {
					b.replayOf[i] = j
				}
				continue
			}
		}
		k := b.slot[id]
		f := b.facts[id]
		d := decideIssue(b.s, &issueSnapshot{series: b.counts[0], customer: b.counts[k], inAudience: f.InAudience, excludedUntil: f.excludedUntil}, at)
		if !d.Allowed() {
			out[i].Err = d.refused()
			continue
		}
		if int64(len(allowed)) == b.room {
			// As Issue would: allowed, but no code is left to mint.
			out[i].Err = mintRefused(b.s, roomFor(b.g, b.claim.adv.From+b.room, 1))
			continue
		}
		b.counts[0].N++
		b.counts[k] = store.Count{N: b.counts[k].N + 1, Last: b.now}
		allowed = append(allowed, i)
		if key := reqs[i].IdempotencyKey; key != "" {
			pending[key] = i
		}
	}
	return allowed
}

// batchChange makes the coupons of the allowed requests of a batch and the
// one change that issues them, and sets their outcomes. The change bumps
// each counter once (store.Change.Validate), by the coupons it issues on
// it: the series' issued counter first, then each customer's in the order
// of their first request, under the guards of one issue each, which the
// store checks for each increment in turn (store.Bump).
func (e *Engine) batchChange(b *issueBatch, reqs []IssueRequest, allowed []int, out []IssueOutcome) (*store.Change, error) {
	s, now := b.s, b.now
	fresh, err := e.batchCoupons(s, b.g, b.claim, len(allowed))
	if err != nil {
		return nil, err
	}
	rules := s.EffectiveIssuance()
	exp := s.ExpiresAt(now, b.loc)
	ch := &store.Change{
		NewCoupons: make([]coupon.Coupon, 0, len(allowed)),
		Events:     make([]coupon.Event, 0, len(allowed)),
		Bumps:      make([]store.Bump, 1, 1+len(b.slot)),
		Sequence:   b.claim.advance(),
		Notices:    thresholdNotice(s, now, e),
	}
	ch.Bumps[0] = store.Bump{Key: issueKeys(s.ID, "")[0], Delta: int64(len(allowed)),
		Guard: limits.Guard{Counter: limits.SeriesIssued, Limit: rules.MaxTotal}, At: now}
	bumpOf := make(map[string]int, len(b.slot)) // customer -> index in ch.Bumps
	for j, i := range allowed {
		r := reqs[i]
		c, ev, err := coupon.Issue(fresh[j], b.custs[i], now, exp, r.Actor)
		if err != nil {
			return nil, err
		}
		c.IssueKey = r.IdempotencyKey
		ev.ID, ev.Reason = e.newID(), r.Reason
		ch.NewCoupons = append(ch.NewCoupons, c)
		ch.Events = append(ch.Events, ev)
		if k, ok := bumpOf[b.custs[i]]; ok {
			ch.Bumps[k].Delta++
		} else {
			bumpOf[b.custs[i]] = len(ch.Bumps)
			ch.Bumps = append(ch.Bumps, store.Bump{Key: issueKeys(s.ID, b.custs[i])[1], Delta: 1,
				Guard: limits.Guard{Counter: limits.CustomerIssued, Limit: rules.CustomerLimit(), MinGap: rules.MinGap}, At: now})
		}
		out[i].Result = IssueResult{Coupon: c.In(b.loc)}
	}
	return ch, nil
}

// issueFacts reads, for each customer of a batch, what the issuance rules
// ask of the store besides counters: audience membership and recent coupons
// of excluding series. The exclusions of every customer are read in one
// Counters call, with the rule of excluded.
func (e *Engine) issueFacts(ctx context.Context, s *series.Series, customers map[string]int, now time.Time) (map[string]issueFact, error) {
	facts := make(map[string]issueFact, len(customers))
	rules := s.EffectiveIssuance()
	excluding := excludes(s)
	var ids []string
	var keys []store.CounterKey
	for id := range customers {
		q := limits.IssuanceRequest{At: now}
		if rules.AudienceOnly {
			in, err := e.st.InAudience(ctx, s.ID, id)
			if err != nil {
				return nil, err
			}
			q.InAudience = in
		}
		facts[id] = issueFact{IssuanceRequest: q}
		if excluding {
			ids = append(ids, id)
			keys = exclusionKeys(keys, s, id)
		}
	}
	if len(keys) == 0 {
		return facts, nil
	}
	counts := make([]store.Count, len(keys))
	if err := e.st.Counters(ctx, keys, counts); err != nil {
		return nil, err
	}
	per := len(s.Issuance.ExcludeSeries)
	for j, id := range ids {
		if until := excludedBy(s, counts[j*per:(j+1)*per], now); !until.IsZero() {
			f := facts[id]
			f.Excluded, f.excludedUntil = true, until
			facts[id] = f
		}
	}
	return facts, nil
}

// issueFact is what the issuance rules read of one customer of a batch
// besides counters, and when an exclusion ends.
type issueFact struct {
	limits.IssuanceRequest
	excludedUntil time.Time
}

// batchMint prepares a batch of series s to mint its codes: a series whose
// codes the engine makes issues what its code space has room for, so its
// sequence is read under the series' mint lock, which the claim holds
// until the batch's change is applied (release it). It returns the
// generator, the claim and the room; for a series of a shared code, which
// mints nothing, no claim and no bound. ok is false, with no error, when
// the series' generator cannot be made: each request then reports it, one
// by one.
func (e *Engine) batchMint(ctx context.Context, s *series.Series) (*codegen.Generator, *seqClaim, int64, bool, error) {
	if s.Source.SharedCode() {
		return nil, nil, math.MaxInt64, true, nil
	}
	g, err := e.generator(ctx, s)
	if err != nil {
		return nil, nil, 0, false, nil
	}
	claim, err := e.claim(ctx, s, g, 0)
	if err != nil {
		return nil, nil, 0, false, err
	}
	return g, claim, roomLeft(g, claim.adv.From), true, nil
}

// batchCoupons makes n fresh coupons for a batch: the common code for each,
// or n newly minted codes from the claim's first index on, whose advance
// it sets to end after them.
func (e *Engine) batchCoupons(s *series.Series, g *codegen.Generator, claim *seqClaim, n int) ([]coupon.Coupon, error) {
	out := make([]coupon.Coupon, n)
	now := e.now()
	if s.Source.SharedCode() {
		canon, err := canonicalCode(s.Source.Code)
		if err != nil {
			return nil, err
		}
		for j := range out {
			c, _, err := e.newCoupon(s, s.Source.Code, canon, "", now)
			if err != nil {
				return nil, err
			}
			out[j] = c
		}
		return out, nil
	}
	from := claim.adv.From
	claim.adv.To = from + int64(n)
	w := g.Width()
	buf := make([]byte, n*w)
	if err := g.Generate(buf, uint64(from), uint64(claim.adv.To)); err != nil {
		return nil, err // roomLeft made room for them
	}
	for j := range out {
		code := string(buf[j*w : (j+1)*w])
		c, _, err := e.newCoupon(s, code, code, "", now)
		if err != nil {
			return nil, err
		}
		out[j] = c
	}
	return out, nil
}
