package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/central"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlite"
)

// childEnv, when set, makes the test binary run the fleet program with
// the arguments in it (separated by newlines) instead of the tests: the
// tests' central and tills are processes of their own.
const childEnv = "FLEET_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Args = append(os.Args[:1], strings.Split(args, "\n")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testSpawner runs the fleet program in a child of the test binary.
func testSpawner(args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(args, "\n"))
	return cmd, nil
}

// TestDemo runs the demo on SQLite, as `go run ./examples/fleet` does: a
// central and three till processes, an outage, the books. The demo's
// output says the books hold, at least one till found every use leased
// (the limit bound), and every sale a till acknowledged is recorded
// centrally exactly once.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	o := demoOptions{dir: dir, uses: 150, people: 450, sales: 80, outage: time.Second}
	start := time.Now()
	if err := demo(ctx, &out, testSpawner, o); err != nil {
		t.Fatalf("the demo: %v\n%s\nlog:\n%s", err, out.String(), tailFile(t, filepath.Join(dir, "fleet.log")))
	}
	t.Logf("the demo took %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	for _, want := range []string{"network down", "offline, within its leases", "then every use left was leased", "the limit held, and the counters equal the records"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output does not say %q", want)
		}
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkFleet(t, st, dir)
}

// checkFleet checks the central's books (central.Check) and each till
// against them: every sale the till acknowledged is in its journal, every
// journal entry is synced and recorded centrally exactly once, on the
// same lease, and the central records nothing the till did not journal.
func checkFleet(t *testing.T, st store.Store, dir string) central.Audit {
	t.Helper()
	ctx := context.Background()
	a, err := central.Check(ctx, st, offer.SeriesID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Problems {
		t.Errorf("the books: %s", p)
	}
	if a.Counter > a.Limit {
		t.Errorf("the series' use counter %d passed its limit %d", a.Counter, a.Limit)
	}
	var recorded int64
	for _, tl := range tills {
		recorded += checkTill(t, st, dir, tl.id)
	}
	if recorded != a.Entries {
		t.Errorf("the tills' journals hold %d uses, the central recorded %d", recorded, a.Entries)
	}
	t.Logf("books: counter %d of %d; %d leases: granted %d = used %d + returned %d + reclaimed %d + left %d; %d uses (%d conflicted, %d on the series), %d redemptions",
		a.Counter, a.Limit, a.Leases, a.Granted, a.Used, a.Returned, a.Reclaimed, a.Left, a.Entries, a.Conflicted, a.OnSeries, a.Redemptions)
	return a
}

// checkTill checks one till's acks file and journal against the central's
// records, and returns how many uses its journal holds.
func checkTill(t *testing.T, st store.Store, dir, id string) int64 {
	t.Helper()
	ctx := context.Background()
	acked := ackedKeys(t, filepath.Join(dir, id+".acks"))
	db, err := sqlite.OpenDB(ctx, filepath.Join(dir, id+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	journal := map[string]string{} // key -> lease
	rows, err := db.QueryContext(ctx, `SELECT j.key, j.lease_id, j.synced, a.outcome FROM till_journal j LEFT JOIN fleet_attempt a ON a.key = j.key`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key, leaseID string
		var synced bool
		var outcome *string
		if err := rows.Scan(&key, &leaseID, &synced, &outcome); err != nil {
			t.Fatal(err)
		}
		journal[key] = leaseID
		if !synced {
			t.Errorf("till %s: entry %s is not synced", id, key)
		}
		if outcome == nil || *outcome != "sold" {
			t.Errorf("till %s: entry %s has no sale recorded with it", id, key)
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range acked {
		if _, ok := journal[k]; !ok {
			t.Errorf("till %s acknowledged sale %s, which is not in its journal", id, k)
		}
	}
	entries, err := st.(store.LeaseStore).TillEntries(ctx, store.TillEntryQuery{Till: id, SeriesID: offer.SeriesID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Key]++
		if l, ok := journal[e.Key]; !ok {
			t.Errorf("till %s: the central recorded %s, which the till never journaled", id, e.Key)
		} else if l != e.LeaseID {
			t.Errorf("till %s: %s was journaled on lease %s and recorded on %s", id, e.Key, l, e.LeaseID)
		}
	}
	for k := range journal {
		if seen[k] != 1 {
			t.Errorf("till %s: journal entry %s is recorded %d times centrally, want once", id, k, seen[k])
		}
	}
	t.Logf("till %s: %d sales acknowledged, %d journaled, %d recorded centrally", id, len(acked), len(journal), len(entries))
	return int64(len(journal))
}

// ackedKeys reads the keys of the sales in an acks file.
func ackedKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[0] != "sold" {
			t.Fatalf("%s: a line cut short or malformed: %q", path, sc.Text())
		}
		out = append(out, fields[1])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tailFile is the end of a log file, for a failure's message.
func tailFile(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}
