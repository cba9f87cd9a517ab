package sqlcore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/couponkit/couponkit/store"
)

// answer is what the fake read answers for a call: its code as the read
// coupon's id, so that a call answered with another's read shows.
func answer(batch []*codeReadCall) {
	for _, c := range batch {
		c.reads = []store.CodeRead{{SeriesVersion: int64(len(c.code))}}
		c.reads[0].Coupon.ID = c.code
	}
}

// TestCombinedReadOfALeadersCall: two leaders run, and the first reads
// the second's call with its own. The second waits for that read (it
// never reads an empty batch), both get their own answers, and both
// places are given back.
func TestCombinedReadOfALeadersCall(t *testing.T) {
	r := &codeReads{shapes: map[string]*readShape{}}
	a := &codeReadCall{code: "a", lead: true, wake: make(chan struct{}, 1)}
	b := &codeReadCall{code: "b", lead: true, wake: make(chan struct{}, 1)}
	sh := &readShape{queue: []*codeReadCall{a, b}, inFlight: 2}
	taken, release := make(chan struct{}), make(chan struct{})
	read := func(batch []*codeReadCall) {
		if len(batch) == 0 {
			t.Error("a leader read an empty batch")
			return
		}
		if batch[0] == a {
			close(taken)
			<-release
		}
		answer(batch)
	}
	done := make(chan []store.CodeRead)
	go func() {
		reads, _ := r.lead(sh, a, read)
		done <- reads
	}()
	<-taken // a's leader reads a and b
	go func() {
		reads, _ := r.lead(sh, b, read)
		done <- reads
	}()
	time.Sleep(20 * time.Millisecond) // b's leader finds the queue empty
	close(release)
	for range 2 {
		if reads := <-done; len(reads) != 1 || (reads[0].Coupon.ID != "a" && reads[0].Coupon.ID != "b") {
			t.Errorf("answered %+v", reads)
		}
	}
	if sh.inFlight != 0 {
		t.Errorf("%d leaders' places were never given back", sh.inFlight)
	}
}

// TestHandOnSkipsLeaders: a leader's place goes to the first queued call
// that leads nothing yet (a leader's own call waits in the queue too);
// with none, it is freed.
func TestHandOnSkipsLeaders(t *testing.T) {
	a := &codeReadCall{code: "a", lead: true, wake: make(chan struct{}, 1)}
	b := &codeReadCall{code: "b", wake: make(chan struct{}, 1)}
	sh := &readShape{queue: []*codeReadCall{a, b}, inFlight: 2}
	sh.handOn()
	if !b.lead || len(b.wake) != 1 || len(a.wake) != 0 || sh.inFlight != 2 {
		t.Fatalf("the place went elsewhere: a %+v, b %+v, %d in flight", a, b, sh.inFlight)
	}
	sh.handOn()
	if sh.inFlight != 1 {
		t.Fatalf("with every queued call leading, the place is kept: %d in flight", sh.inFlight)
	}
}

// TestCombinedReadsUnderLoad: many callers, some of whom give up, read
// through one shape. Every caller who waits gets its own answer, never
// more than readsInFlight reads run at once, no batch is empty, and every
// place is given back.
func TestCombinedReadsUnderLoad(t *testing.T) {
	r := &codeReads{shapes: map[string]*readShape{}}
	var running, most atomic.Int32
	read := func(batch []*codeReadCall) {
		if len(batch) == 0 {
			t.Error("a leader read an empty batch")
			return
		}
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		answer(batch)
		running.Add(-1)
	}
	var wg sync.WaitGroup
	for i := range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if i%7 == 0 {
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(200))*time.Microsecond)
				defer cancel()
			}
			code := fmt.Sprint("c", i)
			reads, err := r.read(ctx, "shape", &codeReadCall{code: code}, read)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("%s: %v", code, err)
				}
				return
			}
			if len(reads) != 1 || reads[0].Coupon.ID != code {
				t.Errorf("%s answered with %+v", code, reads)
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m > readsInFlight {
		t.Errorf("%d reads ran at once, at most %d may", m, readsInFlight)
	}
	if n := r.shapes["shape"].inFlight; n != 0 {
		t.Errorf("%d leaders' places were never given back", n)
	}
}
