package sqlcore

import (
	"context"
	"testing"
	"time"
)

// TestBatchContextEndsWithItsLastCaller: a combined read goes on while
// any of its callers waits, and stops once all of them gave up.
func TestBatchContextEndsWithItsLastCaller(t *testing.T) {
	c1, cancel1 := context.WithCancel(context.Background())
	c2, cancel2 := context.WithCancel(context.Background())
	batch := []*codeReadCall{{ctx: c1}, {ctx: c2}, {ctx: c1}}
	ctx, done := batchContext(batch)
	defer done()
	cancel1()
	if ended(ctx) {
		t.Fatal("the read ended while a caller still waits for it")
	}
	cancel2()
	if !ended(ctx) {
		t.Fatal("the read goes on after every caller gave up")
	}
}

// TestBatchContextOutlivesNoRead: a read done before its callers give up
// ends its context, and later cancellations touch nothing.
func TestBatchContextOutlivesNoRead(t *testing.T) {
	c1, cancel1 := context.WithCancel(context.Background())
	ctx, done := batchContext([]*codeReadCall{{ctx: c1}, {ctx: context.Background()}})
	done()
	if !ended(ctx) {
		t.Fatal("the read's context outlives the read")
	}
	cancel1()
}

// ended reports whether ctx ends within a moment (context.AfterFunc runs
// its function in a goroutine of its own).
func ended(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-time.After(200 * time.Millisecond):
		return false
	}
}
