//go:build race

package live

// The race detector checks only Go heap and data addresses (the runtime's
// race support skips any other address), so it cannot see an access to a
// mapped array without the State's lock. A race build therefore keeps the
// table's arrays on the Go heap, where it does see them: `go test -race`
// then checks the lock discipline the mapped arrays rely on. Tests that
// lower mapMin themselves (TestOracleMapped, the bigRoom model tests) still
// exercise the mappings.
func init() { mapMin = 1 << 62 }
