package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/couponkit/couponkit/coupon"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/limits"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/memstore"
	"github.com/couponkit/couponkit/storetest"
)

// The suite is only worth running if it fails on a broken store. Each
// mutant below is the in-memory store with one contract rule broken; the
// suite (the subtests that concern the rule, in a child process) must fail
// against it, in the subtest named.

const mutantEnv = "STORETEST_MUTANT"

type mutant struct {
	name string
	// run selects the subtests to run, as -test.run patterns below
	// TestMutantSuite, one per level.
	run string
	// want is a subtest path (below TestMutantSuite) that must fail.
	want string
}

var mutants = []mutant{
	{"guards ignored", "^Race$/^(SeriesLevel|IssuePerSeries|StoreGuard)$", "Race/StoreGuard"},
	{"apply not atomic", "^Contract$/^ApplyAtomicOnGuard$", "Contract/ApplyAtomicOnGuard"},
	{"decrements lost", "^(Reverse|Hold)$", "Reverse/ByID"},
	{"update limit ignored", "^Contract$/^UpdateWhereLimit$", "Contract/UpdateWhereLimit"},
	{"skipped inserts keep events", "^(Contract|Upload)$/^(InsertCouponsIdempotent|ReuploadSkips)$", "Contract/InsertCouponsIdempotent"},
	{"coupons listed backwards", "^Contract$/^ListCoupons$", "Contract/ListCoupons"},
	{"idempotency keys not found", "^Redeem$/^ReplaySameKey$", "Redeem/ReplaySameKey"},
	{"counter times lost", "^Limits$/^Gap$", "Limits/Gap"},
	{"revocations lose events", "^Model$", "Model"},
	{"audience updates never refused", "^Contract$/^AudienceApply", "Contract/AudienceApplyRefusals"},
	{"audience listed backwards", "^(Contract|Audience)$/^(AudienceList|ListPages)$", "Contract/AudienceList"},
	{"sequence advances ignored", "^(Contract|Generate)$/^(Sequence|SequenceCountsMinted)$", "Contract/Sequence"},
	{"rewinds ignored", "^(Reverse|Hold)$", "Reverse/GapAfterReversal"},
	{"rewinds unguarded", "^(Reverse|Hold)$", "Reverse/OvertakenKeepsGap"},
	{"rewinds guarded by the last time only", "^(Reverse|Hold)$", "Reverse/OvertakenKeepsGap"},
}

// TestMutants runs the suite against each mutant in a child process and
// fails when the suite passes.
func TestMutants(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a mutant run")
	}
	if testing.Short() {
		t.Skip("runs the suite against broken stores in child processes")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantSuite$/"+m.run, "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name, "RAPID_NOFAILFILE=true", "RAPID_CHECKS=30")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case err == nil:
				t.Fatalf("the suite passed against a store whose %s: it cannot detect that", m.name)
			case !errors.As(err, &exit):
				t.Fatalf("running the suite: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestMutantSuite/"+m.want+" ") {
				t.Errorf("against a store whose %s, subtest %s must fail; output:\n%s", m.name, m.want, out)
			}
		})
	}
}

// TestMutantSuite is the child: it runs the suite against the mutant named
// by the environment.
func TestMutantSuite(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestMutants")
	}
	if !slices.ContainsFunc(mutants, func(m mutant) bool { return m.name == name }) {
		t.Fatalf("unknown mutant %q", name)
	}
	caps := storetest.Capabilities{Parallelism: 16, RaceRounds: 5}
	if name == "guards ignored" {
		caps = storetest.Capabilities{} // the default races must catch it
	}
	storetest.Run(t, func(*testing.T) store.Store { return &broken{Store: memstore.New(), how: name} }, caps)
}

// broken is memstore with one rule broken.
type broken struct {
	store.Store
	how string
}

func (b *broken) Apply(ctx context.Context, c *store.Change) error {
	switch b.how {
	case "guards ignored":
		for i := range c.Bumps {
			c.Bumps[i].Guard = limits.Guard{Counter: c.Bumps[i].Guard.Counter}
		}
	case "rewinds ignored", "rewinds unguarded", "rewinds guarded by the last time only":
		cc := *c
		cc.Bumps = slices.Clone(c.Bumps)
		for i := range cc.Bumps {
			bp := &cc.Bumps[i]
			switch {
			case bp.Rewind == nil:
			case b.how == "rewinds ignored":
				bp.Rewind = nil
			default: // expect whatever the counter holds now (its count only, or all of it)
				cur := make([]store.Count, 1)
				if err := b.Store.Counters(ctx, []store.CounterKey{bp.Key}, cur); err != nil {
					return err
				}
				if b.how == "rewinds guarded by the last time only" && !cur[0].Last.Equal(bp.Rewind.Expect.Last) {
					break
				}
				bp.Rewind = &store.Rewind{Expect: cur[0], Last: bp.Rewind.Last}
			}
		}
		err := b.Store.Apply(ctx, &cc)
		for i := range c.Bumps {
			c.Bumps[i].After = cc.Bumps[i].After
		}
		return err
	case "sequence advances ignored":
		cc := *c
		cc.Sequence = nil
		return b.Store.Apply(ctx, &cc)
	case "decrements lost":
		cc := *c
		cc.Bumps = slices.DeleteFunc(slices.Clone(c.Bumps), func(b store.Bump) bool { return b.Delta < 0 })
		return b.Store.Apply(ctx, &cc)
	case "audience updates never refused":
		// An upsert store: adding a member or removing a non-member
		// silently succeeds, so the engine can no longer tell a no-op.
		cc := *c
		cc.Audience = nil
		for _, u := range c.Audience {
			in, err := b.Store.InAudience(ctx, u.SeriesID, u.Customer)
			if err != nil {
				return err
			}
			if in != u.Remove {
				continue
			}
			cc.Audience = append(cc.Audience, u)
		}
		return b.Store.Apply(ctx, &cc)
	case "revocations lose events":
		if len(c.Coupons) == 1 && c.Coupons[0].Coupon.State == coupon.Revoked && len(c.Events) == 1 {
			cc := *c
			cc.Events = nil
			return b.Store.Apply(ctx, &cc)
		}
	}
	err := b.Store.Apply(ctx, c)
	if b.how == "apply not atomic" && errors.Is(err, errcode.ErrGuardFailed) {
		cc := *c
		cc.Bumps = nil
		_ = b.Store.Apply(ctx, &cc) // writes everything but the bumps
	}
	return err
}

func (b *broken) UpdateWhere(ctx context.Context, f store.CouponFilter, u store.BulkUpdate) ([]coupon.Coupon, error) {
	if b.how == "update limit ignored" {
		u.Limit = 0
	}
	return b.Store.UpdateWhere(ctx, f, u)
}

func (b *broken) InsertCoupons(ctx context.Context, cs []coupon.Coupon, evs []coupon.Event) (int, error) {
	n, err := b.Store.InsertCoupons(ctx, cs, evs)
	if b.how == "skipped inserts keep events" && err == nil && n < len(cs) {
		err = b.Store.Apply(ctx, &store.Change{Events: evs})
	}
	return n, err
}

func (b *broken) ListCoupons(ctx context.Context, q store.CouponQuery) ([]coupon.Coupon, error) {
	cs, err := b.Store.ListCoupons(ctx, q)
	if b.how == "coupons listed backwards" {
		slices.Reverse(cs)
	}
	return cs, err
}

func (b *broken) Audience(ctx context.Context, q store.AudienceQuery) ([]store.AudienceMember, error) {
	ms, err := b.Store.Audience(ctx, q)
	if b.how == "audience listed backwards" {
		slices.Reverse(ms)
	}
	return ms, err
}

func (b *broken) RedemptionByKey(ctx context.Context, couponID, key string) (coupon.Redemption, error) {
	if b.how == "idempotency keys not found" {
		return coupon.Redemption{}, store.NotFound("redemption", key)
	}
	return b.Store.RedemptionByKey(ctx, couponID, key)
}

func (b *broken) Counters(ctx context.Context, keys []store.CounterKey, out []store.Count) error {
	err := b.Store.Counters(ctx, keys, out)
	if b.how == "counter times lost" {
		for i := range out {
			out[i].Last = out[i].Last.AddDate(-1, 0, 0)
		}
	}
	return err
}
