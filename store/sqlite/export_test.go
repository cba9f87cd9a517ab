package sqlite

import (
	"database/sql"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// CoreOf returns the shared store inside s, for the shared tests.
func CoreOf(s *Store) *sqlcore.Store { return s.core }

// NewUncombined is New with combined code reads off
// (Dialect.CombineReads): each ReadCode one statement of its own.
func NewUncombined(db *sql.DB) *Store {
	d := dialect
	d.CombineReads = false
	return &Store{core: sqlcore.New(db, &d)}
}
