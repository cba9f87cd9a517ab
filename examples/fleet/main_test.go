package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit/examples/fleet/central"
	"github.com/couponkit/couponkit/examples/fleet/offer"
	"github.com/couponkit/couponkit/lease"
	"github.com/couponkit/couponkit/store"
	"github.com/couponkit/couponkit/store/sqlite"
	"github.com/couponkit/couponkit/till"
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
// (the limit bound), every sale a till acknowledged is recorded
// centrally exactly once, some sales were decided online and some offline
// (while cut off), and some were given back.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	o := demoOptions{dir: dir, uses: 120, people: 450, sales: 80, outage: time.Second}
	start := time.Now()
	if err := demo(ctx, &out, testSpawner, o); err != nil {
		t.Fatalf("the demo: %v\n%s\nlog:\n%s", err, out.String(), tailFile(t, filepath.Join(dir, "fleet.log")))
	}
	t.Logf("the demo took %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	for _, want := range []string{"network down", "offline, within its leases", "then every use left was leased", "decided online", "reversals gave back", "the limit held, and the counters equal the records"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo's output does not say %q", want)
		}
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := checkFleet(t, st, dir)
	if a.Online == 0 || a.Online == a.Entries || a.Reversals == 0 {
		t.Errorf("the demo recorded %d uses, %d of them decided online, and %d reversals: want uses decided online and offline, and reversals", a.Entries, a.Online, a.Reversals)
	}
}

// checkFleet checks the central's books (central.Check) and each till
// against them: every sale the till acknowledged is in its journal, every
// journal entry is synced and recorded centrally exactly once, on the
// same lease, and the central records nothing the till did not journal;
// every sale acknowledged as decided online is recorded centrally as an
// online use, and every acknowledged reversal gave its use back.
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
	if recorded != a.Entries+a.Reversals {
		t.Errorf("the tills' journals hold %d uses and reversals, the central recorded %d", recorded, a.Entries+a.Reversals)
	}
	t.Logf("books: counter %d of %d; %d leases: granted %d = used %d + returned %d + reclaimed %d + left %d; %d uses (%d online, %d conflicted, %d on the series), %d reversals (%d on leases, %d on the series), %d redemptions stand, %d reversed",
		a.Counter, a.Limit, a.Leases, a.Granted, a.Used, a.Returned, a.Reclaimed, a.Left, a.Entries, a.Online, a.Conflicted, a.OnSeries,
		a.Reversals, a.ReversedOnLease, a.ReversedOnSeries, a.Redemptions, a.Reversed)
	return a
}

// journaled is a till's journal entry, with its sale's record.
type journaled struct {
	lease, reverses       string
	synced, online, gone  bool // gone: the use was given back
	sale                  *string
	saleOnline, saleGiven bool
}

// readJournal reads a till's journal, each entry with the till's record
// of its sale (of the use it gives back, for a reversal), and checks that
// the journal holds no sale in doubt: the till settled them all.
func readJournal(t *testing.T, path string) map[string]journaled {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.OpenDB(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j, err := till.Open(ctx, db, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ds, err := j.Doubts(ctx); err != nil {
		t.Fatal(err)
	} else if len(ds) > 0 {
		t.Errorf("%s: %d sales are left in doubt (asked of the central in vain, then refused or declined offline), the first %s", path, len(ds), ds[0].Key)
	}
	rows, err := db.QueryContext(ctx, `SELECT j.key, COALESCE(j.lease_id, ''), j.reverses, j.synced, j.online, j.reversed,
	a.outcome, COALESCE(a.online, 0), COALESCE(a.reversed, 0)
FROM till_journal j LEFT JOIN fleet_attempt a ON a.key = CASE j.reverses WHEN '' THEN j.key ELSE j.reverses END`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]journaled{}
	for rows.Next() {
		var key string
		var e journaled
		if err := rows.Scan(&key, &e.lease, &e.reverses, &e.synced, &e.online, &e.gone, &e.sale, &e.saleOnline, &e.saleGiven); err != nil {
			t.Fatal(err)
		}
		out[key] = e
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkTill checks one till's acks file and journal against the central's
// records, and returns how many entries (uses and reversals) its journal
// holds.
func checkTill(t *testing.T, st store.Store, dir, id string) int64 {
	t.Helper()
	journal := readJournal(t, filepath.Join(dir, id+".sqlite"))
	entries, err := st.(store.LeaseStore).TillEntries(context.Background(), store.TillEntryQuery{Till: id, SeriesID: offer.SeriesID})
	if err != nil {
		t.Fatal(err)
	}
	central := map[string]lease.Entry{}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Key]++
		central[e.Key] = e
		if _, ok := journal[e.Key]; !ok {
			t.Errorf("till %s: the central recorded %s, which the till never journaled", id, e.Key)
		}
	}
	lost, voided := 0, 0
	for k, j := range journal {
		if isVoided(journal, k) {
			voided++
		}
		if c := central[k]; c.Online && !j.online && j.reverses == "" {
			lost++ // the central decided it, its answer was lost, the till decided it offline under the same key
		}
		if msg := checkEntry(journal, k, central[k], seen[k]); msg != "" {
			t.Errorf("till %s: %s", id, msg)
		}
	}
	checkAcks(t, filepath.Join(dir, id+".acks"), id, journal, central)
	t.Logf("till %s: %d journaled, %d recorded centrally, %d decided online at the central and offline at the till (an answer lost), %d voided",
		id, len(journal), len(entries), lost, voided)
	return int64(len(journal))
}

// isVoided reports whether journal entry k is a use given back as a sale
// in doubt: one the till refused or declined after asking the central in
// vain, whose use the central made all the same, recorded by the till's
// sync and reversed under k+"/void".
func isVoided(journal map[string]journaled, k string) bool {
	return journal[k].reverses == "" && journal[k+"/void"].reverses == k
}

// checkEntry checks journal entry k against the central's record c of it
// (recorded seen times), and returns what is wrong, or "". A use is the
// till's sale (recorded sold with the entry) or a voided sale in doubt
// (recorded refused or declined, and given back at the till and
// centrally); a reversal gives back a sale the till marked given back, or
// is the void of a sale in doubt.
func checkEntry(journal map[string]journaled, k string, c lease.Entry, seen int) string {
	j := journal[k]
	voided := isVoided(journal, k)
	void := j.reverses != "" && k == j.reverses+"/void"
	sale := "none"
	if j.sale != nil {
		sale = *j.sale
	}
	switch {
	case !j.synced:
		return fmt.Sprintf("entry %s is not synced", k)
	case seen != 1:
		return fmt.Sprintf("journal entry %s is recorded %d times centrally, want once", k, seen)
	case voided && sale != "refused" && sale != "declined":
		return fmt.Sprintf("entry %s was voided as a sale in doubt, but its sale is recorded %s, not refused or declined", k, sale)
	case voided && (!j.gone || c.Reversed.IsZero()):
		return fmt.Sprintf("entry %s, a sale in doubt, was not given back (at the till: %v, centrally: %v)", k, j.gone, !c.Reversed.IsZero())
	case !voided && !void && sale != "sold":
		return fmt.Sprintf("entry %s has no sale recorded with it (%s)", k, sale)
	case j.reverses != "" && (c.Reverses != j.reverses || !void && !j.saleGiven):
		return fmt.Sprintf("reversal %s of %s is recorded centrally as reversing %q (sale marked given back: %v)", k, j.reverses, c.Reverses, j.saleGiven)
	case j.reverses == "" && !voided && j.online != j.saleOnline:
		return fmt.Sprintf("entry %s is online %v, its sale's record says %v", k, j.online, j.saleOnline)
	case j.reverses == "" && j.gone != !c.Reversed.IsZero():
		return fmt.Sprintf("use %s given back at the till: %v, centrally: %v", k, j.gone, !c.Reversed.IsZero())
	case j.online && !c.Online:
		return fmt.Sprintf("use %s was decided online, but the central recorded it from the journal", k)
	case j.lease != c.LeaseID && !(c.Online && j.lease == ""):
		// An online use is on no lease at the till when the till does
		// not hold the central's; the journal follows the central's
		// record of a use decided online whose answer was lost.
		return fmt.Sprintf("%s was journaled on lease %q and recorded on %q", k, j.lease, c.LeaseID)
	}
	return ""
}

// checkAcks checks a till's acknowledged sales and reversals: each in its
// journal and recorded centrally as the till acknowledged it.
func checkAcks(t *testing.T, path, id string, journal map[string]journaled, central map[string]lease.Entry) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sales, online, reversals int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 4 && fields[0] == "sold" && (fields[3] == "online" || fields[3] == "offline"):
			sales++
			j, ok := journal[fields[1]]
			if !ok {
				t.Errorf("till %s acknowledged sale %s, which is not in its journal", id, fields[1])
				continue
			}
			if isVoided(journal, fields[1]) {
				t.Errorf("till %s acknowledged sale %s, which was voided as a sale in doubt", id, fields[1])
			}
			if want := fields[3] == "online"; j.online != want {
				t.Errorf("till %s acknowledged sale %s as %s, its journal says online %v", id, fields[1], fields[3], j.online)
			}
			if fields[3] == "online" {
				online++
				if c, ok := central[fields[1]]; !ok || !c.Online {
					t.Errorf("till %s acknowledged sale %s as decided online, the central has no online use of it", id, fields[1])
				}
			}
		case len(fields) == 3 && fields[0] == "reversed":
			reversals++
			if c := central[fields[1]]; c.Reversed.IsZero() || !journal[fields[1]].gone {
				t.Errorf("till %s acknowledged the reversal of %s, which is not given back (till: %v)", id, fields[1], journal[fields[1]].gone)
			}
		default:
			t.Fatalf("%s: a line cut short or malformed: %q", path, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("till %s: %d sales acknowledged (%d online), %d reversals", id, sales, online, reversals)
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
