package storetest

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/store"
)

// model runs the model-based test: rapid draws sequences of every engine
// operation on a small world, and after each one the engine's result and
// the whole stored state must match the model's.
func (h *harness) model(t *testing.T) {
	checks := h.caps.RapidChecks
	if h.caps.Short && !testing.Short() {
		if checks <= 0 {
			checks = 100
		}
		checks = max(1, checks/5)
	}
	checkFieldCounts(t)
	stats := map[string]int{}
	withRapidFlags(checks, h.caps.RapidSteps, func() {
		rapid.Check(t, func(rt *rapid.T) {
			mt := newMachine(t, h, stats)
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
// environment set them: those win. rapid reads its flags when a check
// starts, so they are restored when fn returns.
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
}

func newMachine(t *testing.T, h *harness, stats map[string]int) *machine {
	e := h.env(t)
	e.addCustomers(modelCustomers...)
	gc, cc, uc := modelSeries()
	g, c, u := e.createSeries(gc), e.createSeries(cc), e.createSeries(uc)
	e.upload(u.ID, "U-1", "U-2", "U-3", "U-4")
	return &machine{e: e, m: newModel(g, c, u, e.seriesCoupons(u.ID)), stats: stats}
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
		"Confirm":        mc.confirm,
		"Release":        mc.release,
		"Reverse":        mc.reverse,
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
	switch rapid.SampledFrom([]string{"G", "C", "U"}).Draw(t, "series") {
	case "G":
		return mc.m.g
	case "C":
		return mc.m.c
	}
	return mc.m.u
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

// ---- comparisons ----

// expect fails t unless err is what w says, and counts the outcome.
func (mc *machine) expect(t *rapid.T, op string, err error, w want) {
	t.Helper()
	label := "ok"
	var d *refusal.Error
	if err != nil {
		label = fmt.Sprint(int(errcode.CodeOf(err)))
		if errors.As(err, &d) {
			label = fmt.Sprint("refused ", d.Codes())
		}
	}
	name, _, _ := strings.Cut(op, "(")
	mc.stats[name+": "+label]++
	switch {
	case w.success():
		if err != nil {
			t.Fatalf("%s: the model says it succeeds; the engine says %v", op, err)
		}
	case err == nil:
		t.Fatalf("%s: the model says it fails with %d %s %v; the engine says it succeeds", op, w.code, w.code, w.refused)
	case w.isRefused():
		if d == nil {
			t.Fatalf("%s: the model says it is refused for %v; the engine says %v (code %d)", op, w.refused, err, errcode.CodeOf(err))
		}
		if got := d.Codes(); !slices.Equal(got, w.refused) {
			t.Fatalf("%s: the model says it is refused for %v; the engine refuses for %v: %v", op, w.refused, got, err)
		}
	default:
		if d != nil || !errors.Is(err, &errcode.Error{Code: w.code}) {
			t.Fatalf("%s: the model says it fails with %d %s; the engine says %v (code %d)", op, w.code, w.code, err, errcode.CodeOf(err))
		}
	}
}

func match[T any](t *rapid.T, what string, got, want T) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Fatalf("%s differs from the model (-model +engine):\n%s", what, d)
	}
}

// matchAll is match for the slices the state check compares after every
// step, with a fast equality first: cmp is slow, and only needed to
// explain a difference.
func matchAll[T any](t *rapid.T, what string, got, want []T, eq func(a, b *T) bool) {
	t.Helper()
	if len(got) == len(want) {
		same := true
		for i := range got {
			if !eq(&got[i], &want[i]) {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	match(t, what, got, want)
}

func couponsEqual(a, b *coupon.Coupon) bool {
	return a.ID == b.ID && a.SeriesID == b.SeriesID && a.Code == b.Code && a.Canonical == b.Canonical && a.Shared == b.Shared &&
		a.State == b.State && a.Holder == b.Holder && a.CreatedAt.Equal(b.CreatedAt) && a.IssuedAt.Equal(b.IssuedAt) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.Redemptions == b.Redemptions && a.Holds == b.Holds && a.Reversed == b.Reversed &&
		a.LastStatusChange.Equal(b.LastStatusChange) && a.ReissuedFrom == b.ReissuedFrom && a.ReissuedTo == b.ReissuedTo &&
		a.IssueKey == b.IssueKey && a.Version == b.Version
}

func redemptionsEqual(a, b *coupon.Redemption) bool {
	return a.ID == b.ID && a.CouponID == b.CouponID && a.SeriesID == b.SeriesID && a.Customer == b.Customer &&
		a.IdempotencyKey == b.IdempotencyKey && a.Status == b.Status && a.At.Equal(b.At) && a.HoldExpiresAt.Equal(b.HoldExpiresAt) &&
		a.ConfirmedAt.Equal(b.ConfirmedAt) && a.ReleasedAt.Equal(b.ReleasedAt) && a.ReversedAt.Equal(b.ReversedAt) &&
		a.Location == b.Location && a.Bill.Equal(b.Bill) && a.Discount.Equal(b.Discount) && a.Currency == b.Currency
}

func evRecsEqual(a, b *evRec) bool {
	x, y := *a, *b
	x.At, y.At = time.Time{}, time.Time{}
	return x == y && a.At.Equal(b.At)
}

// checkFieldCounts guards the hand-written equalities above: when a record
// type grows a field, they must learn it.
func checkFieldCounts(t *testing.T) {
	for _, x := range []struct {
		typ  reflect.Type
		want int
	}{{reflect.TypeFor[coupon.Coupon](), 18}, {reflect.TypeFor[coupon.Redemption](), 15}} {
		if n := x.typ.NumField(); n != x.want {
			t.Fatalf("storetest: %s has %d fields, the model's equality knows %d: update couponsEqual or redemptionsEqual", x.typ, n, x.want)
		}
	}
}

// ---- actions ----

func (mc *machine) issue(t *rapid.T) {
	s, cust := mc.drawSeries(t), drawCustomer(t, "customer")
	key := rapid.SampledFrom([]string{"", "", "crm-1", "crm-2"}).Draw(t, "key")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Issue(%s to %s, key %q) at %s", s.s.Name, cust, key, now.Format(time.DateTime))
	req := couponkit.IssueRequest{SeriesID: s.id(), Customer: couponkit.ByID(cust), IdempotencyKey: key}
	if k, used := mc.m.issued[[2]string{s.id(), key}]; used {
		// A key used before: the first coupon, as it is now, or a
		// mismatch; nothing changes either way.
		res, err := mc.e.e.Issue(mc.e.ctx, req)
		if k.customer != cust {
			mc.expect(t, op, err, fail(errcode.KeyMismatch))
			return
		}
		mc.expect(t, op, err, ok())
		if !res.Replayed {
			t.Fatalf("%s: the model replays coupon %s; the engine answers %+v", op, k.couponID, res)
		}
		match(t, op+": the replayed coupon", res.Coupon, *mc.m.coupons[k.couponID])
		return
	}
	o := mc.m.planIssue(s, cust, now)
	res, err := mc.e.e.Issue(mc.e.ctx, req)
	mc.expect(t, op, err, o.want)
	if err != nil {
		return
	}
	if o.resent != nil {
		if !res.Resent {
			t.Fatalf("%s: the model re-sends the customer's coupon %s; the engine issued %s", op, o.resent.ID, res.Coupon.ID)
		}
		match(t, op+": the re-sent coupon", res.Coupon, *o.resent)
		return
	}
	if res.Resent {
		t.Fatalf("%s: the engine re-sent a coupon; the model issues a new one", op)
	}
	mc.checkFresh(t, op, res.Coupon, o.fresh, o.pool, s)
	c := mc.m.applyIssue(s, cust, res.Coupon, o.fresh, now)
	if key != "" {
		c.IssueKey = key
		mc.m.issued[[2]string{s.id(), key}] = issuedByKey{c.ID, cust}
	}
	match(t, op+": the issued coupon", res.Coupon, *c)
}

// checkFresh checks that the coupon the engine chose for an issue or a
// reissue is one the rules allow: any Available coupon of the pool, or a
// newly minted code unlike every other.
func (mc *machine) checkFresh(t *rapid.T, op string, got coupon.Coupon, fresh string, pool []*coupon.Coupon, s *mseries) {
	t.Helper()
	switch fresh {
	case "pool":
		if !slices.ContainsFunc(pool, func(c *coupon.Coupon) bool { return c.ID == got.ID }) {
			t.Fatalf("%s: the engine drew coupon %s (%s), not one of the %d available in the pool", op, got.ID, got.Code, len(pool))
		}
	default:
		if mc.m.coupons[got.ID] != nil {
			t.Fatalf("%s: the new coupon reuses the id of coupon %s", op, got.ID)
		}
		if fresh == "mint" {
			if len(got.Code) != s.s.Source.Length || got.Canonical != got.Code || len(mc.m.byCode(got.Code)) > 0 {
				t.Fatalf("%s: a minted code must be a new %d-character canonical code: %q", op, s.s.Source.Length, got.Code)
			}
		}
	}
}

func (mc *machine) use(t *rapid.T, hold bool) {
	code := mc.drawCode(t)
	cust := mc.drawUser(t, code, "customer")
	k := rapid.SampledFrom([]string{"k1", "k2", "k3"}).Draw(t, "key")
	var ttl time.Duration
	name := "Redeem"
	if hold {
		ttl = rapid.SampledFrom([]time.Duration{10 * time.Minute, time.Hour}).Draw(t, "ttl")
		name = "Hold"
	}
	now := mc.e.clk.Now()
	op := fmt.Sprintf("%s(%s by %s, key %s) at %s", name, code, cust, k, now.Format(time.DateTime))
	p := mc.m.use(code, cust, k, hold, now)
	req := redeemReq(code, cust, k, "100")
	var res couponkit.RedeemResult
	var err error
	if hold {
		res, err = mc.e.e.Hold(mc.e.ctx, couponkit.HoldRequest{RedeemRequest: req, TTL: ttl})
	} else {
		res, err = mc.e.e.Redeem(mc.e.ctx, req)
	}
	mc.expect(t, op, err, p.want)
	if err != nil {
		return
	}
	if p.replay != nil {
		if !res.Replayed {
			t.Fatalf("%s: the key was used on this coupon: the model replays redemption %s; the engine made %s", op, p.replay.ID, res.Redemption.ID)
		}
		match(t, op+": the replayed redemption", res.Redemption, *p.replay)
		match(t, op+": the replayed coupon", res.Coupon, *mc.m.coupons[p.replay.CouponID])
		match(t, op+": the replayed discount", res.Discount, series.Money{Amount: p.replay.Discount, Currency: p.replay.Currency})
		return
	}
	if res.Replayed {
		t.Fatalf("%s: the engine replayed redemption %s; the model makes a new one", op, res.Redemption.ID)
	}
	if mc.m.reds[res.Redemption.ID] != nil {
		t.Fatalf("%s: the new redemption reuses id %s", op, res.Redemption.ID)
	}
	if p.insert && mc.m.coupons[res.Coupon.ID] != nil {
		t.Fatalf("%s: a non-holder's own coupon of the common code must be new; the engine used %s", op, res.Coupon.ID)
	}
	r := mc.m.applyUse(p, cust, k, ttl, res.Redemption.ID, res.Coupon.ID, now)
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
	match(t, op+": the discount", res.Discount, eur("10"))
}

func (mc *machine) validate(t *rapid.T) {
	code := mc.drawCode(t)
	cust := mc.drawUser(t, code, "customer")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Validate(%s by %s) at %s", code, cust, now.Format(time.DateTime))
	p := mc.m.plan(code, cust, now)
	chk, err := mc.e.e.Validate(mc.e.ctx, redeemReq(code, cust, "v", "100"))
	mc.expect(t, op, err, p.want)
	if err != nil || p.insert {
		return
	}
	match(t, op+": the coupon", chk.Coupon, *p.c)
}

func (mc *machine) confirm(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusHeld)
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Confirm(%s) at %s", id, now.Format(time.DateTime))
	w, r, replay := mc.m.confirm(id, now)
	res, err := mc.e.e.Confirm(mc.e.ctx, couponkit.ConfirmRequest{Hold: couponkit.UseRef{ID: id}, Actor: "checkout"})
	mc.expect(t, op, err, w)
	if err != nil {
		return
	}
	if res.Replayed != replay {
		t.Fatalf("%s: Replayed is %v, the model says %v", op, res.Replayed, replay)
	}
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
}

func (mc *machine) release(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusHeld)
	now := mc.e.clk.Now()
	w := mc.m.releaseHold(id, now)
	mc.expect(t, fmt.Sprintf("Release(%s) at %s", id, now.Format(time.DateTime)), mc.e.e.Release(mc.e.ctx, couponkit.ReleaseRequest{Hold: couponkit.UseRef{ID: id}, Actor: "till"}), w)
}

func (mc *machine) reverse(t *rapid.T) {
	id := mc.drawRedemption(t, coupon.StatusRedeemed)
	req := couponkit.ReverseRequest{Redemption: couponkit.UseRef{ID: id}, Actor: "support"}
	if rapid.Bool().Draw(t, "by code and key") {
		req = couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: "NOPE42", IdempotencyKey: "k1"}}
		if r := mc.m.reds[id]; r != nil {
			req = couponkit.ReverseRequest{Redemption: couponkit.UseRef{Code: mc.m.coupons[r.CouponID].Code, IdempotencyKey: r.IdempotencyKey}}
		}
	}
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Reverse(%+v) at %s", req, now.Format(time.DateTime))
	w, r := mc.m.reverse(req.Redemption.ID, req.Redemption.Code, req.Redemption.IdempotencyKey, now)
	res, err := mc.e.e.Reverse(mc.e.ctx, req)
	mc.expect(t, op, err, w)
	if err != nil {
		return
	}
	match(t, op+": the redemption", res.Redemption, *r)
	match(t, op+": the coupon", res.Coupon, *mc.m.coupons[r.CouponID])
}

func matchRevoke(t *rapid.T, op string, res couponkit.RevokeResult, w revokeWant) {
	t.Helper()
	var revoked []revokedRec
	for _, r := range res.Revoked {
		revoked = append(revoked, revokedRec{r.CouponID, r.Code, r.Holder})
	}
	if res.Total != w.total || res.RevokedCount != len(w.revoked) {
		t.Fatalf("%s: total %d revoked %d; the model says %d and %d", op, res.Total, res.RevokedCount, w.total, len(w.revoked))
	}
	match(t, op+": the revoked coupons", revoked, w.revoked)
	match(t, op+": the failures", failures(res), w.failed)
}

func (mc *machine) revokeCode(t *rapid.T) {
	code := mc.drawCode(t)
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Revoke(code %s) at %s", code, now.Format(time.DateTime))
	w := mc.m.revokeCode(code, now)
	res, err := mc.e.e.Revoke(mc.e.ctx, couponkit.RevokeRequest{Codes: []string{code}, Actor: "ops"})
	mc.expect(t, op, err, w.want)
	if err == nil {
		matchRevoke(t, op, res, w)
	}
}

func (mc *machine) revokeCustomer(t *rapid.T) {
	s, cust := mc.drawSeries(t), drawCustomer(t, "customer")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Revoke(%s of %s) at %s", s.s.Name, cust, now.Format(time.DateTime))
	w := mc.m.revokeCustomer(s, cust, now)
	res, err := mc.e.e.Revoke(mc.e.ctx, couponkit.RevokeRequest{SeriesID: s.id(), Customer: couponkit.ByID(cust), Actor: "ops"})
	mc.expect(t, op, err, w.want)
	if err == nil {
		matchRevoke(t, op, res, w)
	}
}

func (mc *machine) transfer(t *rapid.T) {
	code := mc.drawCode(t)
	from, to := mc.drawUser(t, code, "from"), drawCustomer(t, "to")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Transfer(%s from %s to %s) at %s", code, from, to, now.Format(time.DateTime))
	w, c := mc.m.transfer(code, from, to, now)
	moved, err := mc.e.e.Transfer(mc.e.ctx, couponkit.TransferRequest{Code: code, From: couponkit.ByID(from), To: couponkit.ByID(to)})
	mc.expect(t, op, err, w)
	if err == nil {
		match(t, op+": the coupon", moved, *c)
	}
}

func (mc *machine) reissue(t *rapid.T) {
	code := mc.drawCode(t)
	notify := rapid.Bool().Draw(t, "notify")
	now := mc.e.clk.Now()
	op := fmt.Sprintf("Reissue(%s) at %s", code, now.Format(time.DateTime))
	o := mc.m.planReissue(code, now)
	res, err := mc.e.e.Reissue(mc.e.ctx, couponkit.ReissueRequest{Code: code, Notify: notify, Actor: "support"})
	mc.expect(t, op, err, o.want)
	if err != nil {
		return
	}
	mc.checkFresh(t, op, res.New, o.fresh, o.pool, o.s)
	old, fresh := mc.m.applyReissue(o, res.New, notify, now)
	match(t, op+": the old coupon", res.Old, *old)
	match(t, op+": the new coupon", res.New, *fresh)
}

func (mc *machine) expire(t *rapid.T) {
	now := mc.e.clk.Now()
	want := mc.m.expireDue(now)
	n, err := mc.e.e.ExpireDue(mc.e.ctx)
	if err != nil || n != want {
		t.Fatalf("ExpireDue at %s: the engine marked %d (%v); the model %d", now.Format(time.DateTime), n, err, want)
	}
}

func (mc *machine) sweep(t *rapid.T) {
	now := mc.e.clk.Now()
	want := mc.m.releaseLapsed(now, func(*coupon.Redemption) bool { return true })
	n, err := mc.e.e.ReleaseLapsedHolds(mc.e.ctx)
	if err != nil || n != want {
		t.Fatalf("ReleaseLapsedHolds at %s: the engine released %d (%v); the model %d", now.Format(time.DateTime), n, err, want)
	}
}

func (mc *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Minute, 20 * time.Minute, 45 * time.Minute, 3 * time.Hour, 24 * time.Hour}).Draw(t, "advance")
	mc.e.clk.Advance(d)
}

// check compares the whole stored state with the model: every coupon,
// redemption, counter and history, and the engine's counters.
func (mc *machine) check(t *rapid.T) {
	e, m := mc.e, mc.m
	for _, s := range []*mseries{m.g, m.c, m.u} {
		got, err := e.st.ListCoupons(e.ctx, store.CouponQuery{CouponFilter: store.CouponFilter{SeriesID: s.id()}})
		if err != nil {
			t.Fatalf("ListCoupons: %v", err)
		}
		var want []coupon.Coupon
		for _, c := range m.sortedCoupons(func(c *coupon.Coupon) bool { return c.SeriesID == s.id() }) {
			want = append(want, *c)
		}
		matchAll(t, "the stored coupons of "+s.s.Name, got, want, couponsEqual)
		if mints(&s.s) {
			next, err := e.st.NextIndex(e.ctx, s.id())
			if err != nil {
				t.Fatalf("NextIndex: %v", err)
			}
			if next != int64(len(want)) {
				t.Fatalf("the code sequence of %s stands at %d; the model made %d codes from it", s.s.Name, next, len(want))
			}
		}
		rs, err := e.st.ListRedemptions(e.ctx, store.RedemptionQuery{SeriesID: s.id()})
		if err != nil {
			t.Fatalf("ListRedemptions: %v", err)
		}
		var wantR []coupon.Redemption
		for _, r := range m.sortedReds(func(r *coupon.Redemption) bool { return r.SeriesID == s.id() }) {
			wantR = append(wantR, *r)
		}
		matchAll(t, "the stored redemptions of "+s.s.Name, rs, wantR, redemptionsEqual)
		sc, err := e.e.Counters(e.ctx, s.id())
		if err != nil {
			t.Fatalf("Counters: %v", err)
		}
		if n := m.count(key(limits.SeriesIssued, s.id(), "", "")).N; sc.Issued != n {
			t.Fatalf("Engine.Counters(%s).Issued is %d; the model says %d", s.s.Name, sc.Issued, n)
		}
		if n := m.count(key(limits.SeriesUses, s.id(), "", "")).N; sc.Uses != n {
			t.Fatalf("Engine.Counters(%s).Uses is %d; the model says %d", s.s.Name, sc.Uses, n)
		}
	}
	keys := make([]store.CounterKey, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b store.CounterKey) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	got := make([]store.Count, len(keys))
	if err := e.st.Counters(e.ctx, keys, got); err != nil {
		t.Fatalf("Counters: %v", err)
	}
	for i, k := range keys {
		if w := m.counts[k]; got[i].N != w.N || !got[i].Last.Equal(w.Last) {
			t.Fatalf("counter %s of series %s (code %q, customer %q) is %d last %v; the model says %d last %v",
				k.Counter, k.Series, k.Code, k.Customer, got[i].N, got[i].Last, w.N, w.Last)
		}
	}
	for _, c := range m.sortedCoupons(func(*coupon.Coupon) bool { return true }) {
		evs, err := e.st.Events(e.ctx, store.EventQuery{CouponID: c.ID})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		var proj []evRec
		for _, ev := range evs {
			proj = append(proj, evRec{Kind: ev.Kind, Customer: ev.Customer, Counterparty: ev.Counterparty,
				RedemptionID: ev.RedemptionID, NewCouponID: ev.NewCouponID, At: ev.At})
		}
		matchAll(t, "the history of coupon "+c.Code, proj, m.events[c.ID], evRecsEqual)
	}
	e.mu.Lock()
	n := len(e.remaining)
	e.mu.Unlock()
	if n != m.notified {
		t.Fatalf("OnRemaining was called %d times; the model says %d", n, m.notified)
	}
}
