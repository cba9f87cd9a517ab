package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlite"
)

// childEnv, when set, makes the test binary run the notifier with the
// arguments in it (separated by newlines) instead of the tests.
const childEnv = "NOTIFIER_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Args = append(os.Args[:1], strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// world is a store holding the demo's events, and the files of the
// notifier that follows it.
type world struct {
	db, out, handled string
}

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{db: filepath.Join(dir, "coupons.db"), out: filepath.Join(dir, "outbox"), handled: filepath.Join(dir, "handled")}
	w.withStore(t, func(st *sqlite.Store) {
		if err := writeDemo(context.Background(), st, n, demoStart); err != nil {
			t.Fatal(err)
		}
	})
	return w
}

func (w *world) withStore(t *testing.T, fn func(*sqlite.Store)) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fn(st)
}

// feed returns the whole feed of the world's store.
func (w *world) feed(t *testing.T) []store.FeedEvent {
	t.Helper()
	var out []store.FeedEvent
	w.withStore(t, func(st *sqlite.Store) {
		pos := store.Position{}
		for {
			got, next, err := st.EventsAfter(context.Background(), pos, 100)
			if err != nil {
				t.Fatal(err)
			}
			out, pos = append(out, got...), next
			if len(got) < 100 {
				return
			}
		}
	})
	return out
}

// child starts the notifier as a process of its own.
func (w *world) child(t *testing.T, extra ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	args := append([]string{"-db", w.db, "-out", w.out, "-handled", w.handled}, extra...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\n"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestNotifierSendsOnce runs the notifier once over the demo: it sends
// each notification of the feed once, in feed order, says the right thing,
// and a second run sends nothing more.
func TestNotifierSendsOnce(t *testing.T) {
	w := newWorld(t, 12)
	var out bytes.Buffer
	if err := run(context.Background(), &out, options{db: w.db, out: w.out, batch: 5}); err != nil {
		t.Fatal(err)
	}
	want := notifications(w.feed(t))
	if len(want) != 1+12+3 {
		t.Fatalf("the demo of 12 makes %d notifications; want 16", len(want))
	}
	got := lines(t, w.out)
	if !slices.Equal(got, want) || out.String() != strings.Join(want, "\n")+"\n" {
		t.Fatalf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, frag := range []string{"has 3 coupons left to issue", "by sms: your coupon", "was replaced by"} {
		if !strings.Contains(out.String(), frag) {
			t.Errorf("no notification says %q:\n%s", frag, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), &out, options{db: w.db, out: w.out}); err != nil || out.Len() != 0 {
		t.Errorf("a second run sent %q (%v); want nothing", out.String(), err)
	}
}

// notifications are the outbox lines the feed's notifications make.
func notifications(fes []store.FeedEvent) []string {
	var out []string
	for i := range fes {
		if msg := message(&fes[i]); msg != "" {
			out = append(out, fes[i].Position.String()+" "+msg)
		}
	}
	return out
}

// TestNotifierKilled kills the notifier with SIGKILL at random points while
// it works through a feed (slowly, so that most kills land in the middle
// of a batch, after some sends and before the checkpoint), adds events
// between runs, and starts it again each time; then lets it finish. Every
// event was handled at least once (the handled log, deduplicated by
// position, is the feed), some more than once (the kills landed mid
// batch), and every notification was sent exactly once, in feed order.
func TestNotifierKilled(t *testing.T) {
	w := newWorld(t, 40)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	kills := 8
	if testing.Short() {
		kills = 3
	}
	for k := range kills {
		before := len(lines(t, w.handled))
		cmd, out := w.child(t, "-batch", "7", "-slow", "3ms", "-follow")
		// Kill it once it has handled something, a random while later.
		deadline := time.Now().Add(30 * time.Second)
		for len(lines(t, w.handled)) <= before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		t.Logf("kill %d: the handled log grew from %d to %d lines; child said %q", k, before, len(lines(t, w.handled)), tail(out))
		if k%3 == 1 { // more events while it is down
			w.withStore(t, func(st *sqlite.Store) {
				if err := writeDemo(context.Background(), st, 8, demoStart.AddDate(0, 0, 20+k)); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	cmd, out := w.child(t, "-batch", "7")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the last run: %v\n%s", err, out)
	}

	fes := w.feed(t)
	var all []string
	for _, fe := range fes {
		all = append(all, fe.Position.String())
	}
	handled := lines(t, w.handled)
	unique := slices.Clone(handled)
	slices.Sort(unique)
	unique = slices.Compact(unique)
	sortedAll := slices.Clone(all)
	slices.Sort(sortedAll)
	if !slices.Equal(unique, sortedAll) {
		t.Fatalf("the handled log holds %d positions once deduplicated; the feed %d: every event must be handled at least once", len(unique), len(all))
	}
	if len(handled) == len(all) {
		t.Errorf("%d kills and not one event handled twice: no kill landed in the middle of a batch", kills)
	}
	t.Logf("%d events handled %d times over %d kills and a last run", len(all), len(handled), kills)
	sent, want := lines(t, w.out), notifications(fes)
	if !slices.Equal(sent, want) {
		t.Fatalf("the outbox holds %d lines; the feed has %d notifications: each must be sent once, in feed order\nsent: %q\nwant: %q",
			len(sent), len(want), sent, want)
	}
	w.withStore(t, func(st *sqlite.Store) {
		if p, err := st.Checkpoint(context.Background(), "notifier"); err != nil || p != fes[len(fes)-1].Position {
			t.Errorf("the notifier's checkpoint is %s, %v; want the last event's %s", p, err, fes[len(fes)-1].Position)
		}
	})
}

// tail is the last line a child wrote, for the log.
func tail(b *bytes.Buffer) string {
	s := strings.TrimSpace(b.String())
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
