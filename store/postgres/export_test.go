package postgres

import (
	"database/sql"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// CoreOf returns the shared store inside s, for the shared tests.
func CoreOf(s *Store) *sqlcore.Store { return s.core }

// NewUncombined is New with combined code reads off (Dialect.CombineReads):
// each ReadCode is a statement of its own.
func NewUncombined(db *sql.DB) *Store {
	d := dialect
	d.CombineReads = false
	return &Store{core: sqlcore.New(db, &d)}
}

// NewCopyFrom is New writing every change of at least min new coupons
// (and nothing else but events, bumps, notices and a sequence advance)
// with COPY.
func NewCopyFrom(db *sql.DB, min int) *Store {
	s := New(db)
	s.copyMin = min
	return s
}
