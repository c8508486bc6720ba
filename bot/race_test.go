//go:build race

package bot_test

// raceEnabled: the race detector slows everything several times over, so
// latency targets are only enforced without it.
const raceEnabled = true
