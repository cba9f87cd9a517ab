package memstore

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestIDSetModel checks idSet against a plain map: the same members, in
// order, whatever the order of adds and removes, and seeking with after.
func TestIDSetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s idSet
		model := map[string]bool{}
		// Few distinct ids, so that adds and removes hit members; many
		// operations, so that chunks split and empty.
		id := rapid.StringMatching(`[a-f]{1,4}`)
		for range rapid.IntRange(0, 3*chunkMax).Draw(t, "ops") {
			x := id.Draw(t, "id")
			if rapid.IntRange(0, 3).Draw(t, "op") == 0 {
				if got, want := s.remove(x), model[x]; got != want {
					t.Fatalf("remove(%q) = %v, want %v", x, got, want)
				}
				delete(model, x)
			} else {
				if got, want := s.add(x), !model[x]; got != want {
					t.Fatalf("add(%q) = %v, want %v", x, got, want)
				}
				model[x] = true
			}
		}
		want := slices.Sorted(maps.Keys(model))
		if got := slices.Collect(s.after("")); !slices.Equal(got, want) {
			t.Fatalf("members = %v, want %v", got, want)
		}
		if s.Len() != len(want) {
			t.Fatalf("Len = %d, want %d", s.Len(), len(want))
		}
		for i, ch := range s.chunks {
			if len(ch) == 0 || len(ch) > chunkMax {
				t.Fatalf("chunk %d has %d ids", i, len(ch))
			}
		}
		after := id.Draw(t, "after")
		var tail []string
		for _, x := range want {
			if x > after {
				tail = append(tail, x)
			}
		}
		if got := slices.Collect(s.after(after)); !slices.Equal(got, tail) {
			t.Fatalf("after(%q) = %v, want %v", after, got, tail)
		}
		probe := id.Draw(t, "probe")
		if s.add(probe) == model[probe] {
			t.Fatalf("add(%q) of a member reported new, or of a non-member not", probe)
		}
	})
}

func TestIDSetInOrder(t *testing.T) {
	var s idSet
	for i := range 10 * chunkMax {
		s.add(string(rune('a'+i/(26*26)%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26)))
	}
	for i, ch := range s.chunks {
		if i < len(s.chunks)-1 && len(ch) != chunkMax {
			t.Fatalf("ids added in order: chunk %d holds %d ids, want full chunks", i, len(ch))
		}
	}
}
