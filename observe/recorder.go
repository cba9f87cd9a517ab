package observe

import (
	"context"
	"sync"
)

// Recorder is an Observer that keeps what it is told, for tests: each
// operation that ended, in the order they ended, with its outcome. Its
// zero value is ready to use, and it is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	recs []Record
	open int
}

// Record is one operation a Recorder saw end.
type Record struct {
	Op      Op
	Outcome Outcome
	// Depth is how many operations were running, in the context the
	// operation started with, when it started: 0 for an engine operation
	// called by its user, 1 for a store call it makes.
	Depth int
}

type depthKey struct{}

// Start records that op started and returns a function that records its
// outcome. A second call of that function panics: an operation ends once.
func (r *Recorder) Start(ctx context.Context, op Op) (context.Context, func(Outcome)) {
	depth, _ := ctx.Value(depthKey{}).(int)
	r.mu.Lock()
	r.open++
	r.mu.Unlock()
	ended := false
	return context.WithValue(ctx, depthKey{}, depth+1), func(o Outcome) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if ended {
			panic("observe: the outcome of " + string(op) + " was reported twice")
		}
		ended = true
		r.open--
		r.recs = append(r.recs, Record{Op: op, Outcome: o, Depth: depth})
	}
}

// Records returns a copy of the operations that ended, in the order they
// ended.
func (r *Recorder) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.recs...)
}

// Open returns how many operations started and have not ended.
func (r *Recorder) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.open
}

// Reset forgets the operations recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = nil
}
