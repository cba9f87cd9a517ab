package tillsim

import (
	"github.com/shopspring/decimal"

	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/series"
)

// Budgets: some runs give the common or the flash series a money budget
// (series.Budget.Total) small enough to be reached, refusing or reducing
// a discount past it. Leases of such a series hold a slice of the budget,
// tills spend their discounts from it offline, and check (e) reads the
// series' budget counter.

// drawBudget gives s, in about one run in three, a budget of a few of its
// 5 EUR discounts (whole or not, so that a reduced discount is met).
func (w *world) drawBudget(s *series.Series, name string) {
	if rapidInt(w, name+" budgeted", 0, 2) != 0 {
		return
	}
	cents := int64(rapidInt(w, name+" budget in 50 cents", 1, 40)) * 50
	s.Budget.Total = decimal.NewNullDecimal(decimal.New(cents, -2))
	if rapidInt(w, name+" budget reduces", 0, 1) == 1 {
		s.Budget.OnExceed = series.BudgetReduce
	}
	w.stats["series with a budget"]++
}

// budgetCap is s's budget in cents, or -1 without one.
func (w *world) budgetCap(s *simSeries) int64 {
	cur, err := w.eng.Series(w.ctx, s.id)
	if err != nil {
		w.t.Fatalf("Series: %v", err)
	}
	if !cur.Budget.Total.Valid {
		return -1
	}
	return cur.Budget.Total.Decimal.Shift(2).IntPart()
}

// moneyCount is what a series' budget counter holds, by its parts, and
// the money its standing uses gave.
type moneyCount struct {
	counter int64 // the series' budget counter
	// counted is what the parts say the counter holds: the central
	// redemptions' money, the standing uses of tills counted on the
	// series' counter (online, or from the journal off their lease),
	// the money leases hold (Granted - Returned - Reclaimed), less the
	// money of reversed journal uses counted on leases.
	counted int64
	// given is the money the standing uses gave, central and tills', but
	// for the tills' conflicted uses.
	given int64
}

// countMoney reads the parts of s's budget counter.
func (w *world) countMoney(s *simSeries, v *centralView) moneyCount {
	p := w.partsOf(s, v, limits.SeriesBudget)
	m := moneyCount{counter: p.counter, counted: p.held.Money}
	for _, e := range p.uses {
		standing := e.Reversed.IsZero()
		onLease := e.Counted == lease.OnLease && !e.Online
		switch {
		case onLease && !standing:
			m.counted -= e.Budget
		case !onLease && standing && e.RedemptionID != "":
			m.counted += e.Budget
		}
		if standing && !e.Conflicted() {
			m.given += e.Discount.Amount.Shift(2).IntPart()
		}
	}
	for _, r := range p.central {
		m.counted += r.Budget
		m.given += r.Budget
	}
	return m
}

// checkBudget is check (e) for s, between steps and at the end: its budget
// counter never passes the budget and is its parts, and the money its
// standing uses gave (central and tills', but for the tills' uses flagged
// as conflicts) stays within the budget.
func (w *world) checkBudget(s *simSeries, v *centralView) {
	limit := w.budgetCap(s)
	if limit < 0 {
		return
	}
	m := w.countMoney(s, v)
	if m.counter == limit {
		w.stats["budget counters at their budget (checks)"]++
	}
	if m.counter > limit {
		w.violation("(e) series %s: its budget counter %d passes its budget %d", s.kind, m.counter, limit)
	}
	if m.counter != m.counted {
		w.violation("(e) series %s: its budget counter holds %d, its parts %d", s.kind, m.counter, m.counted)
	}
	if m.given > limit {
		w.violation("(e) series %s: its standing uses gave %d, past its budget %d", s.kind, m.given, limit)
	}
}

// checkLeaseMoney is the money's part of (c): each lease's Used.Money is
// the money of the journal uses counted on it, and each till spent of a
// lease, by its own count, what its journal's uses on it gave, within
// what the central granted less what it took back.
func (w *world) checkLeaseMoney(v *centralView) {
	spent := map[string]int64{}
	for _, e := range v.entries {
		if e.Counted == lease.OnLease && !e.Online && e.Reverses == "" {
			spent[e.LeaseID] += e.Budget
		}
	}
	for _, l := range v.leases {
		if l.Used.Money != spent[l.ID] {
			w.violation("(c) lease %s counts %d money used, its entries %d", l.ID, l.Used.Money, spent[l.ID])
		}
		if l.Granted.Money > 0 {
			w.stats["leases holding money"]++
		}
	}
	for _, tl := range w.tills {
		states, err := tl.j.Leases(w.ctx)
		if err != nil {
			w.t.Fatalf("%s: Leases: %v", tl.name, err)
		}
		for _, st := range states {
			var journal int64
			err := tl.db.QueryRowContext(w.ctx, `SELECT COALESCE(SUM(budget), 0) FROM till_journal WHERE lease_id = ? AND reverses = ''`, st.ID).Scan(&journal)
			if err != nil {
				w.t.Fatalf("%s: reading the journal: %v", tl.name, err)
			}
			c := v.byID[st.ID]
			switch {
			case st.MoneyUsed != journal:
				w.violation("(c) %s spent %d of lease %s by its count, %d by its journal", tl.name, st.MoneyUsed, st.ID, journal)
			case st.MoneyUsed+st.MoneyReturned > st.Money:
				w.violation("(c) %s spent %d and returned %d of lease %s, granted %d", tl.name, st.MoneyUsed, st.MoneyReturned, st.ID, st.Money)
			case c != nil && st.Money > c.Granted.Money:
				w.violation("(c) %s holds %d money of lease %s, the central granted %d", tl.name, st.Money, st.ID, c.Granted.Money)
			}
		}
	}
}
