//go:build race

package main

// raceEnabled is true when the race detector is on. sync.Pool drops items
// on purpose under -race, so allocation counts are meaningless there.
const raceEnabled = true
