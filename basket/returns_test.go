package basket_test

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/couponkit/couponkit/basket"
	"github.com/couponkit/couponkit/errcode"
)

func TestGiveBack(t *testing.T) {
	parts := []basket.Part{{Line: "a", Quantity: 4, Base: 3596, Discount: 2000}, {Line: "b", Quantity: 3, Base: 3750, Discount: 1000},
		{Line: "c", Quantity: 1, Base: 600, Discount: 0}}
	for _, tc := range []struct {
		name        string
		before, now []basket.Return
		want        int64
		per         []int64
	}{
		{"one bottle", nil, []basket.Return{{Line: "a", Quantity: 1}}, 500, []int64{500, 0, 0}},
		{"three after one", []basket.Return{{Line: "a", Quantity: 1}}, []basket.Return{{Line: "a", Quantity: 3}}, 1500, []int64{1500, 0, 0}},
		{"a third", nil, []basket.Return{{Line: "b", Quantity: 1}}, 333, []int64{0, 333, 0}},
		{"the second third", []basket.Return{{Line: "b", Quantity: 1}}, []basket.Return{{Line: "b", Quantity: 1}}, 333, []int64{0, 333, 0}},
		{"the last third", []basket.Return{{Line: "b", Quantity: 2}}, []basket.Return{{Line: "b", Quantity: 1}}, 334, []int64{0, 0 + 334, 0}},
		{"a line without a discount", nil, []basket.Return{{Line: "c", Quantity: 1}}, 0, []int64{0, 0, 0}},
		{"everything", nil, []basket.Return{{Line: "c", Quantity: 1}, {Line: "b", Quantity: 3}, {Line: "a", Quantity: 4}}, 3000,
			[]int64{2000, 1000, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, per, err := basket.GiveBack(parts, tc.before, tc.now)
			if err != nil || got != tc.want || !slices.Equal(per, tc.per) {
				t.Errorf("GiveBack = %d %v, %v; want %d %v", got, per, err, tc.want, tc.per)
			}
		})
	}
	for _, tc := range []struct {
		name        string
		parts       []basket.Part
		before, now []basket.Return
		want        []string
	}{
		{"unknown line", parts, nil, []basket.Return{{Line: "z", Quantity: 1}}, []string{"1002:Now[0].Line"}},
		{"line twice", parts, nil, []basket.Return{{Line: "a", Quantity: 1}, {Line: "a", Quantity: 1}}, []string{"1002:Now[1].Line"}},
		{"more than bought", parts, []basket.Return{{Line: "a", Quantity: 2}}, []basket.Return{{Line: "a", Quantity: 3}},
			[]string{"1002:Now[0].Quantity"}},
		{"zero units", parts, nil, []basket.Return{{Line: "a", Quantity: 0}}, []string{"1002:Now[0].Quantity"}},
		{"before past bought", parts, []basket.Return{{Line: "b", Quantity: 4}}, nil, []string{"1002:Before[0].Quantity"}},
		{"part above base", []basket.Part{{Line: "a", Quantity: 1, Base: 5, Discount: 6}}, nil, nil, []string{"1002:Parts[0].Discount"}},
		{"part twice", []basket.Part{{Line: "a", Quantity: 1}, {Line: "a", Quantity: 1}}, nil, nil, []string{"1002:Parts[1].Line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := basket.GiveBack(tc.parts, tc.before, tc.now)
			if got := codeFields(err); !slices.Equal(got, tc.want) {
				t.Errorf("GiveBack errors %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGiveBackAmount(t *testing.T) {
	parts := []basket.Part{{Line: "t1", Quantity: 1, Base: 3000, Discount: 545}, {Line: "t2", Quantity: 1, Base: 2500, Discount: 455}}
	for _, tc := range []struct{ before, now, want int64 }{
		{0, 2500, 454}, {2500, 3000, 546}, {0, 5500, 1000}, {0, 0, 0}, {5499, 1, 1},
	} {
		if got, err := basket.GiveBackAmount(parts, tc.before, tc.now); err != nil || got != tc.want {
			t.Errorf("GiveBackAmount(%d, %d) = %d, %v; want %d", tc.before, tc.now, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		before, now int64
		field       string
	}{{-1, 1, "Before"}, {0, 5501, "Now"}, {5000, 501, "Now"}, {0, -1, "Now"}} {
		_, err := basket.GiveBackAmount(parts, tc.before, tc.now)
		if es := errcode.All(err); len(es) != 1 || es[0].Code != errcode.InvalidArgument || es[0].Field != tc.field {
			t.Errorf("GiveBackAmount(%d, %d) error %v, want InvalidArgument on %s", tc.before, tc.now, err, tc.field)
		}
	}
}

// Successive returns never give back more than was given, and give back
// exactly the discount once everything is back, by units or by amount.
func TestGiveBackProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "lines")
		parts := make([]basket.Part, n)
		var total, base int64
		for i := range parts {
			q := rapid.Int64Range(1, 20).Draw(t, "qty")
			b := rapid.Int64Range(0, 1_000_000).Draw(t, "base")
			parts[i] = basket.Part{Line: string(rune('a' + i)), Quantity: q, Base: b, Discount: rapid.Int64Range(0, b).Draw(t, "discount")}
			total += parts[i].Discount
			base += b
		}
		var before []basket.Return
		done := map[string]int64{}
		var given int64
		open := func(p basket.Part) bool { return done[p.Line] < p.Quantity }
		for slices.ContainsFunc(parts, open) {
			i := rapid.IntRange(0, n-1).Draw(t, "line")
			p := parts[i]
			if done[p.Line] == p.Quantity {
				continue
			}
			q := rapid.Int64Range(1, p.Quantity-done[p.Line]).Draw(t, "returned")
			got, _, err := basket.GiveBack(parts, before, []basket.Return{{Line: p.Line, Quantity: q}})
			if err != nil {
				t.Fatal(err)
			}
			given += got
			if given > total {
				t.Fatalf("gave back %d of %d", given, total)
			}
			done[p.Line] += q
			before = before[:0]
			for _, x := range parts {
				if done[x.Line] > 0 {
					before = append(before, basket.Return{Line: x.Line, Quantity: done[x.Line]})
				}
			}
		}
		if given != total {
			t.Fatalf("everything back gave back %d of %d", given, total)
		}
		var back, sum int64
		for back < base {
			x := rapid.Int64Range(1, base-back).Draw(t, "amount")
			got, err := basket.GiveBackAmount(parts, back, x)
			if err != nil {
				t.Fatal(err)
			}
			back, sum = back+x, sum+got
			if sum > total {
				t.Fatalf("amounts gave back %d of %d", sum, total)
			}
		}
		if base > 0 && sum != total {
			t.Fatalf("the whole amount back gave back %d of %d", sum, total)
		}
	})
}
