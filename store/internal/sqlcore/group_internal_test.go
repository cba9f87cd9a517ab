package sqlcore

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestGroupHandsOnAtCommit checks the group commit's pipelining: the next
// group starts writing while the previous one is still committing, and
// every change is written once, in a group of its own queue order.
func TestGroupHandsOnAtCommit(t *testing.T) {
	release := make(chan struct{}) // ends the first group's commit
	var mu sync.Mutex
	var runs [][]*Waiter
	overlapped := make(chan struct{})
	d := &Dialect{GroupSize: 2, GroupShards: 1}
	d.RunGroup = func(ctx context.Context, s *Store, group []*Waiter, commit func()) error {
		mu.Lock()
		runs = append(runs, group)
		n := len(runs)
		mu.Unlock()
		commit()
		if n == 1 {
			select { // the first group's commit waits for the second group
			case <-overlapped:
			case <-time.After(10 * time.Second):
			}
			<-release
		} else if n == 2 {
			close(overlapped)
		}
		return nil
	}
	s := &Store{d: d, groups: newGroups(d)}
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.applyGrouped(context.Background(), &Planned{}) })
		time.Sleep(5 * time.Millisecond) // queue them in order
	}
	select {
	case <-overlapped:
	case <-time.After(10 * time.Second):
		t.Fatal("the second group did not start while the first was committing")
	}
	close(release)
	wg.Wait()
	seen := 0
	for _, g := range runs {
		seen += len(g)
		if len(g) > d.GroupSize {
			t.Errorf("a group of %d changes, more than GroupSize %d", len(g), d.GroupSize)
		}
	}
	if seen != n {
		t.Errorf("%d changes written, want %d, each once", seen, n)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("change %d: %v", i, err)
		}
	}
}
