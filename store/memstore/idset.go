package memstore

import (
	"iter"
	"slices"
	"sort"
)

// chunkMax is the most ids one chunk of an idSet holds before it splits.
const chunkMax = 128

// idSet is an ordered set of ids: a two-level B-tree whose leaves are sorted
// chunks of at most chunkMax ids. Adding, removing and seeking cost
// O(log n + chunkMax) whatever the order ids arrive in, and ids that arrive
// in increasing order fill whole chunks. It is not safe for concurrent use;
// the Store's lock guards it.
type idSet struct {
	chunks [][]string // each sorted and non-empty; every id of chunk i is below every id of chunk i+1
	n      int
}

// Len is the number of ids in the set.
func (s *idSet) Len() int { return s.n }

// chunkFor returns the index of the chunk where id is or would go: the first
// chunk whose last id is not below id, or the last chunk.
func (s *idSet) chunkFor(id string) int {
	i := sort.Search(len(s.chunks), func(i int) bool {
		ch := s.chunks[i]
		return ch[len(ch)-1] >= id
	})
	if i == len(s.chunks) {
		i--
	}
	return i
}

// add adds id and reports whether it was not there yet.
func (s *idSet) add(id string) bool {
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, []string{id})
		s.n = 1
		return true
	}
	ci := s.chunkFor(id)
	ch := s.chunks[ci]
	j, found := slices.BinarySearch(ch, id)
	if found {
		return false
	}
	s.n++
	if j == len(ch) && ci == len(s.chunks)-1 && len(ch) >= chunkMax {
		// Past the end of a full last chunk (ids arriving in order):
		// start a new chunk rather than split a full one.
		nc := make([]string, 1, chunkMax)
		nc[0] = id
		s.chunks = append(s.chunks, nc)
		return true
	}
	ch = slices.Insert(ch, j, id)
	if len(ch) <= chunkMax {
		s.chunks[ci] = ch
		return true
	}
	half := len(ch) / 2
	right := make([]string, len(ch)-half, chunkMax)
	copy(right, ch[half:])
	clear(ch[half:])
	s.chunks[ci] = ch[:half]
	s.chunks = slices.Insert(s.chunks, ci+1, right)
	return true
}

// remove removes id and reports whether it was there.
func (s *idSet) remove(id string) bool {
	if len(s.chunks) == 0 {
		return false
	}
	ci := s.chunkFor(id)
	ch := s.chunks[ci]
	j, found := slices.BinarySearch(ch, id)
	if !found {
		return false
	}
	s.n--
	ch = slices.Delete(ch, j, j+1)
	if len(ch) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	} else {
		s.chunks[ci] = ch
	}
	return true
}

// after yields the ids greater than after in increasing order (every id
// when after is ""). The set must not change while the sequence runs.
func (s *idSet) after(after string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if s == nil || len(s.chunks) == 0 {
			return
		}
		ci, j := 0, 0
		if after != "" {
			ci = sort.Search(len(s.chunks), func(i int) bool {
				ch := s.chunks[i]
				return ch[len(ch)-1] > after
			})
			if ci == len(s.chunks) {
				return
			}
			ch := s.chunks[ci]
			j = sort.Search(len(ch), func(k int) bool { return ch[k] > after })
		}
		for ; ci < len(s.chunks); ci, j = ci+1, 0 {
			for _, id := range s.chunks[ci][j:] {
				if !yield(id) {
					return
				}
			}
		}
	}
}
