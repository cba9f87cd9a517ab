package sqlcore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/couponkit/couponkit/store"
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

// lingerStore is a store whose groups are recorded, not written: run is
// called with each group's size, in order.
func lingerStore(linger time.Duration, run func(size int)) *Store {
	d := &Dialect{GroupSize: 128, GroupShards: 1, GroupLinger: linger,
		RunGroup: func(_ context.Context, _ *Store, group []*Waiter, _ func()) error {
			run(len(group))
			return nil
		}}
	return &Store{d: d, groups: newGroups(d)}
}

// queued waits until the store's queue holds n waiters.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	sh := s.groups.shards[0]
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		sh.mu.Lock()
		l := len(sh.queue)
		sh.mu.Unlock()
		if l >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue never held %d waiters", n)
		}
	}
}

// TestGroupLinger checks Dialect.GroupLinger: after a group of 7, a leader
// alone in the queue waits for half as many (3) before it takes its
// group, and stops waiting as soon as they are queued; a group taken
// after a group of one does not wait.
func TestGroupLinger(t *testing.T) {
	const linger = 5 * time.Second
	var mu sync.Mutex
	var sizes []int
	started, hold := make(chan struct{}), make(chan struct{})
	first := true
	s := lingerStore(linger, func(size int) {
		mu.Lock()
		sizes = append(sizes, size)
		wait := first
		first = false
		mu.Unlock()
		if wait {
			close(started)
			<-hold
		}
	})
	var wg sync.WaitGroup
	apply := func() { wg.Go(func() { _ = s.applyGrouped(context.Background(), &Planned{c: &store.Change{}}) }) }
	// A group of one (held while 7 more queue), then one of 7.
	apply()
	<-started
	for range 7 {
		apply()
	}
	queued(t, s, 7)
	close(hold)
	wg.Wait()
	// One change after a group of 7: its leader waits for 2 more.
	start := time.Now()
	apply()
	time.Sleep(20 * time.Millisecond)
	apply()
	apply()
	wg.Wait()
	if d := time.Since(start); d >= linger {
		t.Errorf("the leader waited %v, the whole linger", d)
	}
	mu.Lock()
	got := slices.Clone(sizes)
	mu.Unlock()
	if want := []int{1, 7, 3}; !slices.Equal(got, want) {
		t.Fatalf("group sizes %v, want %v", got, want)
	}
}

// TestGroupLingerLone checks that a lone writer never waits: its groups
// hold one change each, and so does the last.
func TestGroupLingerLone(t *testing.T) {
	const linger = 5 * time.Second
	s := lingerStore(linger, func(int) {})
	start := time.Now()
	for range 3 {
		if err := s.applyGrouped(context.Background(), &Planned{c: &store.Change{}}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d >= linger {
		t.Errorf("3 lone changes took %v", d)
	}
}
