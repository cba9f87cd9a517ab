package till_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/errcode"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/refusal"
	"github.com/couponkit/couponkit/series"
	"github.com/couponkit/couponkit/till"
)

// TestCanonicalCodesCountAsOne: "abc", " ABC " and, in a series with the
// confusion-free alphabet, a confusable spelling are one code: stored,
// counted and compared as its canonical form.
func TestCanonicalCodesCountAsOne(t *testing.T) {
	cf := permissive()
	cf.Source = series.Source{Kind: series.Generated, Length: 6, Alphabet: series.ConfusionFree}
	cases := []struct {
		name      string
		s         series.Series
		spellings []string
		canonical string
	}{
		{"plain", permissive(), []string{"abc", " ABC "}, "ABC"},
		{"confusion-free", cf, []string{"AB0110", "ab-oil-o"}, "AB0110"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := tc.s
			s.Redemption.MaxPerCode = 2
			j := openJournal(t, openDB(t, filepath.Join(t.TempDir(), "till.db")))
			putSeries(t, j, s)
			grant(t, j, "l1", 10)
			for i, code := range tc.spellings {
				e, err := j.Redeem(ctx, sale{code, "c" + string(rune('a'+i)), t0, ""}.use(code), nil)
				if err != nil || e.Code != tc.canonical {
					t.Fatalf("use of %q: %+v, %v", code, e, err)
				}
			}
			// The same sale typed another way is a repeat, not a mismatch.
			if _, err := j.Redeem(ctx, sale{tc.canonical, "ca", t0, ""}.use(tc.spellings[0]), nil); err != nil {
				t.Fatalf("a repeat typed canonically: %v", err)
			}
			_, err := j.Redeem(ctx, sale{tc.canonical, "zed", t0, ""}.use("third"), nil)
			checkRefusal(t, err, errcode.Redeemed, refusal.UsedUp)
			es, _ := j.Pending(ctx, 0, 0)
			for _, e := range es {
				if e.Code != tc.canonical {
					t.Errorf("the journal keeps %q", e.Code)
				}
			}
		})
	}
	if _, err := (&cf.Source).CanonicalCode(nil, "AB011"); errcode.CodeOf(err) != errcode.InvalidCode {
		t.Fatalf("a short code: %v", err)
	}
}

// TestReverse: a reversal is an entry of its own, exactly once per key;
// the use it gives back no longer counts toward the till's levels, but
// stays used on its lease; what cannot be reversed is refused with a
// typed error and writes nothing.
func TestReverse(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "till.db"))
	j := openJournal(t, db)
	s := permissive()
	s.Redemption.MaxPerCode = 1
	putSeries(t, j, s)
	grant(t, j, "l1", 10)
	if _, err := j.Redeem(ctx, use("u1", t0), nil); err != nil {
		t.Fatal(err)
	}
	_, err := j.Redeem(ctx, use("u2", t0), nil)
	checkRefusal(t, err, errcode.Redeemed, refusal.UsedUp)

	boom := errors.New("printer on fire")
	r := till.Reversal{Key: "r1", Reverses: "u1", At: t0.Add(time.Minute)}
	if _, err := j.Reverse(ctx, r, func(*sql.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("a failing hook: %v", err)
	}
	_, err = j.Redeem(ctx, use("u2", t0), nil)
	checkRefusal(t, err, errcode.Redeemed, refusal.UsedUp) // the failed reversal gave nothing back

	first, err := j.Reverse(ctx, r, nil)
	if err != nil || first.Reverses != "u1" || first.Code != "ABC" || first.LeaseID != "l1" {
		t.Fatalf("reverse: %+v, %v", first, err)
	}
	ran := false
	again, err := j.Reverse(ctx, r, func(*sql.Tx) error { ran = true; return nil })
	if err != nil || again.Seq != first.Seq || ran {
		t.Fatalf("a repeat: %+v, %v, hook ran %v", again, err, ran)
	}
	refused := []struct {
		name   string
		r      till.Reversal
		target error
	}{
		{"same key, another time", till.Reversal{Key: "r1", Reverses: "u1", At: t0}, errcode.ErrKeyMismatch},
		{"the key of a use", till.Reversal{Key: "u1", Reverses: "u1", At: t0.Add(time.Minute)}, errcode.ErrKeyMismatch},
		{"no such use", till.Reversal{Key: "r2", Reverses: "nope", At: t0}, errcode.ErrNotFound},
		{"reversed twice", till.Reversal{Key: "r3", Reverses: "u1", At: t0}, &errcode.Error{Code: errcode.AlreadyReversed}},
		{"a reversal", till.Reversal{Key: "r4", Reverses: "r1", At: t0}, errcode.ErrInvalidArgument},
	}
	for _, tc := range refused {
		if _, err := j.Reverse(ctx, tc.r, nil); !errors.Is(err, tc.target) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.target)
		}
	}
	if _, err := j.Redeem(ctx, use("u2", t0), nil); err != nil {
		t.Fatalf("the code's use was given back, yet: %v", err)
	}
	if left, _ := j.Left(ctx, "l1"); left != 8 {
		t.Errorf("lease left %d, want 8: a reversal gives nothing back to the lease", left)
	}
	// Sync uploads the use, then its reversal, in journal order.
	up := &recorder{}
	if n, err := j.Sync(ctx, "till-1", up, 0); err != nil || n != 3 {
		t.Fatalf("sync: %d, %v", n, err)
	}
	want := []couponkit.JournalEntry{{Key: "u1"}, {Key: "r1", Reverses: "u1"}, {Key: "u2"}}
	if len(up.got) != len(want) {
		t.Fatalf("uploaded %+v", up.got)
	}
	for i, w := range want {
		g := up.got[i]
		if g.Key != w.Key || g.Reverses != w.Reverses || g.Code != "ABC" || g.Customer != "alice" || g.LeaseID != "l1" || g.Bill.Amount.String() != "50" {
			t.Errorf("entry %d uploaded as %+v, want key %s reversing %q", i, g, w.Key, w.Reverses)
		}
	}
}

// recorder is a central that acknowledges every entry it is sent.
type recorder struct{ got []couponkit.JournalEntry }

func (r *recorder) UploadJournal(_ context.Context, b couponkit.JournalBatch) (couponkit.JournalAck, error) {
	r.got = append(r.got, b.Entries...)
	var ack couponkit.JournalAck
	for _, e := range b.Entries {
		ack.Entries = append(ack.Entries, leaseEntry(e.Key))
	}
	return ack, nil
}

func leaseEntry(key string) lease.Entry { return lease.Entry{Key: key} }
