package couponkit

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/observe"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// CouponView is a coupon with its state now.
type CouponView struct {
	coupon.Coupon
	// Now is the coupon's state at the time of the query (an Issued coupon
	// past its expiry is Expired).
	Now coupon.State `json:"now"`
}

// CouponDetails is a coupon with its state now and its uses: every
// redemption and hold of it, whatever its status. (The coupon's own
// Redemptions field counts the confirmed, unreversed ones.)
type CouponDetails struct {
	CouponView
	Uses []coupon.Redemption `json:"uses"`
}

// Coupon returns the details of the coupon a code names, its times in the
// series' time zone. For a common code, give the holder (customer);
// otherwise customer may be zero.
//
// Who may call it: the back office. It shows the holder and every use, so a
// checkout answering a shopper should use Validate instead.
func (e *Engine) Coupon(ctx context.Context, seriesID, code string, customer CustomerRef) (_ CouponDetails, err error) {
	ctx, o := e.begin(ctx, observe.Coupon, code)
	defer o.end(&err)
	if err := e.admit(codeArgs(seriesID, code, &customer)); err != nil {
		return CouponDetails{}, err
	}
	holder := ""
	if !customer.IsZero() {
		c, err := e.customers.Resolve(ctx, customer)
		if err != nil {
			return CouponDetails{}, err
		}
		holder = c.ID
	}
	c, s, err := e.couponOf(ctx, seriesID, code, holder)
	if err != nil {
		return CouponDetails{}, err
	}
	loc, err := e.location(s)
	if err != nil {
		return CouponDetails{}, err
	}
	rs, err := e.st.ListRedemptions(ctx, store.RedemptionQuery{CouponID: c.ID})
	if err != nil {
		return CouponDetails{}, err
	}
	for i := range rs {
		rs[i] = rs[i].In(loc)
	}
	return CouponDetails{CouponView: CouponView{Coupon: c.In(loc), Now: c.StateAt(e.now())}, Uses: rs}, nil
}

// CustomerCoupons returns the coupons a customer holds, in one series or
// (seriesID "") in all, with their state now and their times in their
// series' time zone; each coupon's Reversed and LastStatusChange fields tell
// whether a redemption of it was reversed and when its status last changed.
func (e *Engine) CustomerCoupons(ctx context.Context, customer CustomerRef, seriesID string) (_ []CouponView, err error) {
	ctx, o := e.begin(ctx, observe.CustomerCoupons, "")
	defer o.end(&err)
	if err := e.admit(codeArgs(seriesID, "", &customer)); err != nil {
		return nil, err
	}
	c, err := e.customers.Resolve(ctx, customer)
	if err != nil {
		return nil, err
	}
	cs, err := e.st.ListCoupons(ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: seriesID, Holder: c.ID}})
	if err != nil {
		return nil, err
	}
	now := e.now()
	out := make([]CouponView, len(cs))
	for i, x := range cs {
		loc, err := e.seriesLocation(ctx, x.SeriesID)
		if err != nil {
			return nil, err
		}
		out[i] = CouponView{Coupon: x.In(loc), Now: x.StateAt(now)}
	}
	return out, nil
}

// CouponHistory returns a coupon's events in the order they happened.
func (e *Engine) CouponHistory(ctx context.Context, couponID string) (_ []coupon.Event, err error) {
	ctx, o := e.begin(ctx, observe.CouponHistory, "")
	defer o.end(&err)
	if err := e.admit(idArg("CouponID", couponID)); err != nil {
		return nil, err
	}
	return e.st.Events(ctx, store.EventQuery{CouponID: couponID})
}

// CustomerHistory returns the events in a customer's history, in the order
// they happened, in one series or (seriesID "") in all.
func (e *Engine) CustomerHistory(ctx context.Context, customer CustomerRef, seriesID string) (_ []coupon.Event, err error) {
	ctx, o := e.begin(ctx, observe.CustomerHistory, "")
	defer o.end(&err)
	if err := e.admit(codeArgs(seriesID, "", &customer)); err != nil {
		return nil, err
	}
	c, err := e.customers.Resolve(ctx, customer)
	if err != nil {
		return nil, err
	}
	return e.st.Events(ctx, store.EventQuery{Customer: c.ID, SeriesID: seriesID})
}

// SeriesCounters are a series' running totals.
type SeriesCounters struct {
	// Issued is the number of coupons issued from the series.
	Issued int64 `json:"issued"`
	// Uses is the number of unreversed redemptions and live holds.
	Uses int64 `json:"uses"`
	// RemainingIssuable is how many more coupons the series may issue, or
	// -1 without a series maximum.
	RemainingIssuable int64 `json:"remaining_issuable"`
	// RemainingUses is how many more redemptions the series allows, or -1
	// without a series level.
	RemainingUses int64 `json:"remaining_uses"`
	// BudgetSpent, for a series with a budget (series.Budget), is the
	// money its unreversed redemptions and live holds gave away, in its
	// currency; zero otherwise.
	BudgetSpent series.Money `json:"budget_spent,omitzero"`

	// The guessability of a series whose codes the engine makes (generated
	// unique or randomized common); all three are 0 for the other kinds,
	// whose codes come from elsewhere or are shared by everyone.

	// CodeSpace is the number of well-formed codes: the alphabet's size to
	// the power of the number of generated characters. The prefix, suffix
	// and check character add nothing: one code shows them.
	CodeSpace uint64 `json:"code_space,omitempty"`
	// LiveCodes is the number of codes the series has made: every index of
	// its code sequence handed out, that is each code issued, waiting in
	// the pool (Generate), redeemed, revoked, expired or replaced by a
	// reissue. The sequence moves only with the change that stores the
	// codes, so it equals the codes stored. It never goes down. Each such code answers a guess differently from "no such code",
	// so it is what a guess can hit, and it is the count the series' fill
	// ratio (series.Source.FillLimit) caps.
	LiveCodes int64 `json:"live_codes,omitempty"`
	// GuessOdds is LiveCodes / CodeSpace: the chance that one code made up
	// at random in the series' shape is one of its codes. At most the fill
	// ratio (1 in 10,000 by default for generated unique codes).
	GuessOdds float64 `json:"guess_odds,omitempty"`
}

// Counters returns a series' running totals and, for a series whose codes
// the engine makes, its guessability. It needs no Config.CodeKey.
func (e *Engine) Counters(ctx context.Context, seriesID string) (_ SeriesCounters, err error) {
	ctx, o := e.begin(ctx, observe.Counters, "")
	defer o.end(&err)
	if err := e.admit(idArg("SeriesID", seriesID)); err != nil {
		return SeriesCounters{}, err
	}
	s, err := e.st.Series(ctx, seriesID)
	if err != nil {
		return SeriesCounters{}, err
	}
	keys := []store.CounterKey{{Counter: limits.SeriesIssued, Series: s.ID}, {Counter: limits.SeriesUses, Series: s.ID},
		{Counter: limits.SeriesBudget, Series: s.ID}}
	var counts [3]store.Count
	if !s.Budget.Capped() {
		keys = keys[:2]
	}
	if err := e.st.Counters(ctx, keys, counts[:len(keys)]); err != nil {
		return SeriesCounters{}, err
	}
	out := SeriesCounters{Issued: counts[0].N, Uses: counts[1].N, RemainingIssuable: -1, RemainingUses: -1}
	if s.Budget.Capped() {
		cur := s.Discount.Currency
		out.BudgetSpent = series.Money{Amount: decimal.New(counts[2].N, -int32(series.MinorUnits(cur))), Currency: cur}
	}
	if m := s.Issuance.MaxTotal; m > 0 {
		out.RemainingIssuable = max(0, int64(m)-out.Issued)
	}
	if m := s.Redemption.MaxPerSeries; m > 0 {
		out.RemainingUses = max(0, int64(m)-out.Uses)
	}
	if err := e.guessOdds(ctx, &s, &out); err != nil {
		return SeriesCounters{}, err
	}
	return out, nil
}

// guessOdds fills in the code space, live codes and guess odds of a series
// whose codes the engine makes. The live codes are the next index of the
// series' code sequence, read without reserving it.
func (e *Engine) guessOdds(ctx context.Context, s *series.Series, out *SeriesCounters) error {
	if k := s.Source.Kind; k != series.Generated && k != series.RandomizedCommon {
		return nil
	}
	f, err := e.format(s)
	if err != nil {
		return err
	}
	made, err := e.st.NextIndex(ctx, s.ID)
	if err != nil {
		return err
	}
	out.CodeSpace, out.LiveCodes, out.GuessOdds = f.Capacity(), made, f.Fill(uint64(made))
	return nil
}
