package postgres

import (
	"database/sql"

	"github.com/couponkit/couponkit/store/internal/sqlcore"
)

// CoreOf returns the shared store inside s, for the shared tests.
func CoreOf(s *Store) *sqlcore.Store { return s.core }

// NewCombined is New with combined code reads on (Dialect.CombineReads).
func NewCombined(db *sql.DB) *Store {
	d := dialect
	d.CombineReads = true
	return &Store{core: sqlcore.New(db, &d)}
}
