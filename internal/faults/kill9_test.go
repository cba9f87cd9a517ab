package faults_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/couponkit/couponkit"
	"github.com/couponkit/couponkit/bulk"
)

// killChildEnv holds the job (JSON) of a child process of the kill -9
// tests.
const killChildEnv = "COUPONKIT_FAULTS_KILL_CHILD"

// killJob is a bulk issue run on an SQLite file, for a child process.
type killJob struct {
	DB, File, Series, FileID string
	Batch                    int
}

// TestIssueFileKill9Child is the child process of the kill -9 tests: it
// runs bulk.IssueFile as its job says, until the run ends or the process
// is killed.
func TestIssueFileKill9Child(t *testing.T) {
	spec := os.Getenv(killChildEnv)
	if spec == "" {
		t.Skip("run by TestIssueFileKill9Resume")
	}
	var job killJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	e, _ := openSQLiteEngine(t, job.DB)
	err := runFile(e, &job, job.FileID, func(p bulk.Progress) {
		fmt.Printf("%s%d\n", progressLine, p.Done) // os.Stdout is not buffered
	})
	if err != nil {
		t.Fatal(err)
	}
}

// progressLine starts the line a child prints after each batch.
const progressLine = "batch done, rows: "

// runFile runs job's file to its end with e, under fileID, calling
// progress (when not nil) after each batch.
func runFile(e *couponkit.Engine, job *killJob, fileID string, progress func(bulk.Progress)) error {
	f, err := os.Open(job.File)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := bulk.Options{BatchSize: job.Batch, FileID: fileID, Progress: progress}
	rep, err := bulk.IssueFile(ctx, e, job.Series, f, opts)
	if err == nil && rep.Rejected > 0 {
		err = fmt.Errorf("%d rows rejected: %v", rep.Rejected, rep.Rejections)
	}
	return err
}

// openSQLiteEngine opens the SQLite file at path, migrated, and an
// engine over it, closed when the test ends.
func openSQLiteEngine(t testing.TB, path string) (*couponkit.Engine, *sql.DB) {
	t.Helper()
	s, db := sqliteStore(t, path)
	return newEngine(t, s), db
}

// killRig runs kill -9 trials: each a child process issuing a file into
// an SQLite file of its own, killed, and the run resumed.
type killRig struct {
	t       *testing.T
	dir     string
	file    []byte
	custs   []string
	batch   int
	batches int
	trials  int
	// The timing of a child's run: from its start to its first batch, and
	// then each batch.
	first, each time.Duration
}

func newKillRig(t *testing.T, rows, batch int) *killRig {
	if raceDetector {
		// The test is about processes that die, not goroutines; under the
		// race detector its children's SQLite runs many times slower.
		t.Skip("a kill -9 test: skipped under the race detector")
	}
	dir := t.TempDir()
	file, custs := customerFile(rows)
	if err := os.WriteFile(filepath.Join(dir, "customers.csv"), file, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &killRig{t: t, dir: dir, file: file, custs: custs, batch: batch, batches: (rows + batch - 1) / batch}
	// Time a child's run, the shortest of a few, so that the kills are
	// spread over the whole run.
	for i := range 3 {
		tr := r.trial("")
		first, total := tr.timeRun()
		if each := (total - first) / time.Duration(max(r.batches-1, 1)); i == 0 || first+each < r.first+r.each {
			r.first, r.each = first, each
		}
		tr.expectOnce("a run without faults")
	}
	return r
}

// killTrial is one database, with a series to issue the file in.
type killTrial struct {
	r   *killRig
	job killJob
	e   *couponkit.Engine
	db  *sql.DB
}

// trial makes a database with a series for the next trial, whose run
// has fileID (empty: the file's identity is its content).
func (r *killRig) trial(fileID string) *killTrial {
	r.trials++
	job := killJob{DB: filepath.Join(r.dir, fmt.Sprintf("trial-%d.db", r.trials)), File: filepath.Join(r.dir, "customers.csv"),
		Batch: r.batch, FileID: fileID}
	tr := &killTrial{r: r, job: job}
	tr.e, tr.db = openSQLiteEngine(r.t, job.DB)
	tr.job.Series = createSeries(r.t, tr.e, "kill")
	return tr
}

// start starts a child on the trial's job; lines delivers the batches it
// reports done, and is closed when its output ends; exited delivers the
// error of a child that failed, and is closed when it has ended.
func (tr *killTrial) start() (cmd *exec.Cmd, lines <-chan struct{}, exited <-chan error) {
	spec, err := json.Marshal(&tr.job)
	if err != nil {
		tr.r.t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run=^TestIssueFileKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		tr.r.t.Fatal(err)
	}
	var errs bytes.Buffer
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		tr.r.t.Fatal(err)
	}
	ls := make(chan struct{}, tr.r.batches+1)
	ex := make(chan error, 1)
	go func() {
		var text bytes.Buffer
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), progressLine) {
				ls <- struct{}{}
			} else {
				text.WriteString(sc.Text() + "\n")
			}
		}
		close(ls)
		if err := cmd.Wait(); err != nil {
			err = fmt.Errorf("%w\n%s%s", err, text.Bytes(), errs.Bytes())
			ex <- err
		}
		close(ex)
	}()
	return cmd, ls, ex
}

// timeRun runs a child through the whole file and returns when it
// reported its first batch and when it exited.
func (tr *killTrial) timeRun() (first, total time.Duration) {
	start := time.Now()
	_, lines, exited := tr.start()
	<-lines
	first = time.Since(start)
	if err := <-exited; err != nil {
		tr.r.t.Fatalf("a child running the whole file: %v", err)
	}
	return first, time.Since(start)
}

// killAt starts a child on the trial's job and kills it (SIGKILL) at pos,
// a point of its run from 0 (its start) to the number of batches (its
// end): pos below 1 is that share of the time to its first batch; above,
// the child is killed after it reported int(pos) batches, and that
// fraction of a batch's time later. A child that ends before is not
// killed. Then killAt checks that SQLite finds the file intact, and
// returns how many coupons the series holds.
func (tr *killTrial) killAt(pos float64) int {
	t := tr.r.t
	cmd, lines, exited := tr.start()
	wait := time.Duration(pos * float64(tr.r.first))
	if pos >= 1 {
		for range int(pos) {
			if _, ok := <-lines; !ok {
				break // it ended: the select below says how
			}
		}
		wait = time.Duration((pos - float64(int(pos))) * float64(tr.r.each))
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the child failed before it was killed: %v", err)
		}
	case <-time.After(wait):
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-exited
	}
	var check string
	if err := tr.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the kill: %q, %v", check, err)
	}
	var n int
	if err := tr.db.QueryRow("SELECT count(*) FROM ck_coupons WHERE series_id = $1", tr.job.Series).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// resume runs the trial's file again, in this process, under fileID.
func (tr *killTrial) resume(fileID string) {
	if err := runFile(tr.e, &tr.job, fileID, nil); err != nil {
		tr.r.t.Fatalf("resuming: %v", err)
	}
}

// audit reads the trial's series, and the requests its rows make under
// fileID.
func (tr *killTrial) audit(fileID string) (issueAudit, map[string]string) {
	return auditIssues(tr.r.t, tr.db, tr.job.Series), wantOf(filePlan(tr.r.file, fileID, tr.r.custs))
}

// expectOnce fails the test unless every row of the file is issued
// exactly once, under the trial's identity; then it closes the trial's
// database, whose part is over.
func (tr *killTrial) expectOnce(what string) {
	a, want := tr.audit(tr.job.FileID)
	if p := a.problems(want); len(p) > 0 {
		tr.r.t.Fatalf("%s: not exactly once:\n%s", what, firstLines(p))
	}
	_ = tr.db.Close()
}

// TestIssueFileKill9Resume kills (SIGKILL) a child process running
// bulk.IssueFile of a 1,500-row file into an SQLite file, at a random
// moment of the run, spread over the whole run across 16 trials (half of
// them with a FileID, half with the file's content as its identity),
// then resumes by running the same file again until it completes: every
// row is issued exactly once. COUPONKIT_FAULTS_LONG runs 64 trials of
// 20,000 rows.
func TestIssueFileKill9Resume(t *testing.T) {
	skipShort(t)
	rows, trials := sized(1500, 20000), sized(16, 64)
	r := newKillRig(t, rows, 50)
	t.Logf("a child reports the first of %d batches of %d rows after %v, then one every %v", r.batches, r.batch, r.first, r.each)
	var none, partial, whole int
	for i := range trials {
		fileID := ""
		if i%2 == 1 {
			fileID = "campaign-7"
		}
		tr := r.trial(fileID)
		// Trial i kills within the i-th of trials equal spans of the run.
		pos := (float64(i) + rand.Float64()) / float64(trials) * float64(r.batches)
		stored := tr.killAt(pos)
		switch {
		case stored == 0:
			none++
		case stored < rows:
			partial++
		default:
			whole++
		}
		tr.resume(fileID)
		tr.expectOnce(fmt.Sprintf("trial %d, killed at batch %.2f with %d coupons stored", i, pos, stored))
	}
	t.Logf("%d trials: killed with nothing stored %d times, part of the file stored %d times, the whole file %d times",
		trials, none, partial, whole)
	if partial == 0 {
		t.Error("no kill fell in the middle of the writes: nothing was tested")
	}
}

// TestIssueFileKill9ResumeUnderNewIdentity shows that
// TestIssueFileKill9Resume can fail: resuming a killed run under another
// FileID gives its rows other keys, so the rows the killed run had stored
// are issued a second time, which the audit reports.
func TestIssueFileKill9ResumeUnderNewIdentity(t *testing.T) {
	skipShort(t)
	const rows = 600
	r := newKillRig(t, rows, 50)
	for i := range 4 {
		tr := r.trial("first-run")
		stored := tr.killAt(float64(r.batches) * (0.3 + 0.1*float64(i)))
		if stored == 0 {
			continue
		}
		tr.resume("second-run")
		a, want := tr.audit("second-run")
		if a.coupons != rows+stored || len(a.problems(want)) == 0 {
			t.Fatalf("%d coupons stored before the resume, %d after it; want %d, and the audit to object", stored, a.coupons, rows+stored)
		}
		t.Logf("%d rows stored by the killed run were issued again; the audit reports %d problems", stored, len(a.problems(want)))
		return
	}
	t.Fatal("no killed run had stored a row")
}
