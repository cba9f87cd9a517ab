package storetest

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/series"
)

// model runs the model-based test: rapid draws sequences of every engine
// operation on a small world, and after each one the engine's result and
// the whole stored state must match the model's.
func (h *harness) model(t *testing.T) {
	checks := h.sizes.RapidChecks
	if h.sizes.Short && !testing.Short() {
		if checks <= 0 {
			checks = 100
		}
		checks = max(1, checks/5)
	}
	checkFieldCounts(t)
	stats := map[string]int{}
	withRapidFlags(checks, h.sizes.RapidSteps, func() {
		rapid.Check(t, func(rt *rapid.T) {
			mt := newMachine(t, rt, h, stats)
			rt.Repeat(mt.actions())
		})
	})
	if testing.Verbose() {
		keys := make([]string, 0, len(stats))
		for k := range stats {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\n  %5d  %s", stats[k], k)
		}
		t.Logf("outcomes of the operations the model test ran:%s", b.String())
	}
}

// rapidFlagMu serialises the temporary setting of rapid's flags.
var rapidFlagMu sync.Mutex

// withRapidFlags runs fn with rapid's -rapid.checks and -rapid.steps set to
// checks and steps (when positive), unless the command line or the
// environment set them: those win. rapid reads its flags while a check
// runs, so they are restored when fn returns.
//
// The flags are the process's, and subtests run in parallel: every
// rapid.Check of the suite runs inside a withRapidFlags call (with 0 and
// 0 to set nothing), so that none reads a flag while another sets it.
func withRapidFlags(checks, steps int, fn func()) {
	rapidFlagMu.Lock()
	defer rapidFlagMu.Unlock()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var restore []func()
	defer func() {
		for _, r := range restore {
			r()
		}
	}()
	for _, x := range []struct {
		name, env string
		v         int
	}{{"rapid.checks", "RAPID_CHECKS", checks}, {"rapid.steps", "RAPID_STEPS", steps}} {
		if x.v <= 0 || set[x.name] {
			continue
		}
		if _, ok := os.LookupEnv(x.env); ok {
			continue
		}
		f := flag.Lookup(x.name)
		if f == nil {
			continue
		}
		old := f.Value.String()
		if f.Value.Set(strconv.Itoa(x.v)) == nil {
			restore = append(restore, func() { _ = f.Value.Set(old) })
		}
	}
	fn()
}

// machine is one run of the model test: an env and the model of it.
type machine struct {
	e     *env
	m     *model
	stats map[string]int // outcome counts, logged at the end
	feed  modelFeed      // what checkFeed has read of the feed
}

// newMachine builds the world of one run; series B's discount, budget
// policy and return policy are drawn.
func newMachine(t *testing.T, rt *rapid.T, h *harness, stats map[string]int) *machine {
	perUnit := rapid.Bool().Draw(rt, "B's discount is per unit")
	refuse := rapid.Bool().Draw(rt, "B refuses past its budget")
	returns := rapid.SampledFrom([]series.ReturnPolicy{series.ReturnBudget, series.ReturnUse, series.ReturnBoth, series.ReturnNeither}).Draw(rt, "B's return policy")
	e := h.env(t)
	e.addCustomers(modelCustomers...)
	gc, cc, uc := modelSeries()
	g, c, u := e.createSeries(gc), e.createSeries(cc), e.createSeries(uc)
	b := e.createSeries(modelBasketSeries(perUnit, refuse, returns))
	e.upload(u.ID, "U-1", "U-2", "U-3", "U-4")
	return &machine{e: e, m: newModel(g, c, u, b, e.seriesCoupons(u.ID)), stats: stats}
}

func (mc *machine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"":               mc.check,
		"Issue":          mc.issue,
		"Issue again":    mc.issue, // issue and redeem are drawn twice as often
		"Redeem":         func(t *rapid.T) { mc.use(t, false) },
		"Redeem again":   func(t *rapid.T) { mc.use(t, false) },
		"Hold":           func(t *rapid.T) { mc.use(t, true) },
		"Validate":       mc.validate,
		"Redeem B":       func(t *rapid.T) { mc.useB(t, false) },
		"Hold B":         func(t *rapid.T) { mc.useB(t, true) },
		"Validate B":     mc.validateB,
		"Confirm":        mc.confirm,
		"Release":        mc.release,
		"Reverse":        mc.reverse,
		"Return":         mc.returnB,
		"Return again":   mc.returnB, // returns come in series on one redemption
		"RevokeCode":     mc.revokeCode,
		"RevokeCustomer": mc.revokeCustomer,
		"Transfer":       mc.transfer,
		"Reissue":        mc.reissue,
		"ExpireDue":      mc.expire,
		"ReleaseLapsed":  mc.sweep,
		"Advance":        mc.advance,
	}
}

// ---- draws ----

func (mc *machine) drawSeries(t *rapid.T) *mseries {
	return mc.m.all[rapid.IntRange(0, len(mc.m.all)-1).Draw(t, "series")]
}

func drawCustomer(t *rapid.T, label string) string {
	return rapid.SampledFrom(modelCustomers).Draw(t, label)
}

// drawCode draws a code as a cashier might type it: mostly the code of a
// coupon usable now, sometimes any code the model knows, now and then one
// that is nowhere.
func (mc *machine) drawCode(t *rapid.T) string {
	now := mc.e.clk.Now()
	var live []string
	for _, c := range mc.m.sortedCoupons(func(c *coupon.Coupon) bool { return stateAt(c, now) == coupon.Issued }) {
		if !slices.Contains(live, c.Code) {
			live = append(live, c.Code)
		}
	}
	var code string
	switch pick := rapid.IntRange(0, 9).Draw(t, "code pick"); {
	case pick == 0:
		code = "NOPE42"
	case pick <= 2 || len(live) == 0:
		code = rapid.SampledFrom(mc.m.codes()).Draw(t, "code")
	default:
		code = rapid.SampledFrom(live).Draw(t, "live code")
	}
	if rapid.IntRange(0, 3).Draw(t, "case") == 0 {
		code = strings.ToLower(code)
	}
	return code
}

// drawUser draws who uses a code: often a holder of it, else anyone.
func (mc *machine) drawUser(t *rapid.T, code, label string) string {
	var holders []string
	for _, c := range mc.m.byCode(code) {
		if c.Holder != "" && !slices.Contains(holders, c.Holder) {
			holders = append(holders, c.Holder)
		}
	}
	if len(holders) > 0 && rapid.Bool().Draw(t, label+" is a holder") {
		return rapid.SampledFrom(holders).Draw(t, label)
	}
	return drawCustomer(t, label)
}

// drawRedemption draws a redemption id: mostly one in one of the given
// statuses, sometimes any, now and then one that does not exist.
func (mc *machine) drawRedemption(t *rapid.T, prefer ...coupon.RedemptionStatus) string {
	var all, preferred []string
	for _, r := range mc.m.sortedReds(func(*coupon.Redemption) bool { return true }) {
		all = append(all, r.ID)
		if slices.Contains(prefer, r.Status) {
			preferred = append(preferred, r.ID)
		}
	}
	switch pick := rapid.IntRange(0, 9).Draw(t, "redemption pick"); {
	case pick == 0 || len(all) == 0:
		return "no-such-redemption"
	case pick <= 2 || len(preferred) == 0:
		return rapid.SampledFrom(all).Draw(t, "redemption")
	default:
		return rapid.SampledFrom(preferred).Draw(t, "preferred redemption")
	}
}

// drawCodeOf draws a code of series s as drawCode does: mostly one usable
// now, else any of s; drawCode's when s has none.
func (mc *machine) drawCodeOf(t *rapid.T, s *mseries) string {
	now := mc.e.clk.Now()
	var live, all []string
	for _, c := range mc.m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() }) {
		all = append(all, c.Code)
		if stateAt(c, now) == coupon.Issued {
			live = append(live, c.Code)
		}
	}
	if len(all) == 0 {
		return mc.drawCode(t)
	}
	code := rapid.SampledFrom(all).Draw(t, "code of "+s.s.Name)
	if len(live) > 0 && rapid.IntRange(0, 3).Draw(t, "live") > 0 {
		code = rapid.SampledFrom(live).Draw(t, "live code of "+s.s.Name)
	}
	if rapid.IntRange(0, 3).Draw(t, "case") == 0 {
		code = strings.ToLower(code)
	}
	return code
}

// drawBasketFor draws the basket a use of code is made on, or nil for a
// bill of 100 EUR alone: a code of series B mostly has one, any other now
// and then.
func (mc *machine) drawBasketFor(t *rapid.T, code string) *mbasket {
	onB := false
	if cs := mc.m.byCode(code); len(cs) > 0 && cs[0].SeriesID == mc.m.b.id() {
		onB = true
	}
	// rapid draws the ends of a range more often than the middle: the
	// odds hang on a value in the middle.
	if pick := rapid.IntRange(0, 7).Draw(t, "basket pick"); onB == (pick == 3) {
		return nil
	}
	return drawBasket(t)
}
