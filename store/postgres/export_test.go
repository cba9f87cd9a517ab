package postgres

import (
	"database/sql"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// CoreOf returns the shared store inside s, for the shared tests.
func CoreOf(s *Store) *sqlcore.Store { return s.core }

// NewSeparate is New with combined code reads off (Dialect.CombineReads):
// each ReadCode is a statement of its own.
func NewSeparate(db *sql.DB) *Store {
	d := dialect
	d.CombineReads = false
	return &Store{core: sqlcore.New(db, &d)}
}
