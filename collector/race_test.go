//go:build race

package collector

// raceEnabled: gobgp v3.37.0 races with itself when a dynamic neighbor (or
// a peer configured with AS 0) goes down: server.go:1590 resets the peer AS
// while the watch goroutine reads it in toPathAPI. Tests use a configured
// neighbor with its AS under -race.
const raceEnabled = true
