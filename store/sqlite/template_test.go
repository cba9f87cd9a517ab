package sqlite_test

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/couponkit/couponkit/store/sqlite"
)

// TestMain removes the migrated template the tests copy.
func TestMain(m *testing.M) {
	code := m.Run()
	if template.dir != "" {
		os.RemoveAll(template.dir)
	}
	os.Exit(code)
}

// template is a migrated, empty database file that open copies: running
// every migration for each of the suite's hundreds of databases costs more
// than most tests, several times more under the race detector.
var template struct {
	once      sync.Once
	dir, path string
	err       error
}

// migratedFile returns the path of a fresh copy of the template in a
// temporary directory of t's.
func migratedFile(t testing.TB) string {
	t.Helper()
	template.once.Do(func() {
		if template.dir, template.err = os.MkdirTemp("", "couponkit-sqlite-template-"); template.err != nil {
			return
		}
		template.path = filepath.Join(template.dir, "template.db")
		s, err := sqlite.Open(ctx, template.path)
		if err != nil {
			template.err = err
			return
		}
		template.err = s.Migrate(ctx)
		if err := s.Close(); template.err == nil {
			template.err = err
		}
	})
	if template.err != nil {
		t.Fatalf("migrating the template database: %v", template.err)
	}
	path := filepath.Join(t.TempDir(), "ck.db")
	if err := copyFile(path, template.path); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
