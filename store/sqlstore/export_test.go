package sqlstore

// Migrations returns how many migrations this build has for the dialect.
func Migrations(d Dialect) int {
	ms, err := migrations(d)
	if err != nil {
		panic(err)
	}
	return len(ms)
}
