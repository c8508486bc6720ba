package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
)

// homes remembers, for each person, what the App Home last published for
// them shows, so that opening it again publishes nothing: people open Home
// often. Slack also sends the Home it shows with each opening (its
// private_metadata holds the same fingerprint), which covers a restart and
// the other replicas; this memory covers the openings that come before
// Slack's copy has changed. It is safe for concurrent use.
type homes struct {
	mu     sync.Mutex
	byUser map[string]string
}

// maxHomes bounds the memory; past it, it starts again (strangers open
// Home too). Forgetting costs one publish each.
const maxHomes = 10_000

// claim records that fingerprint is being published for user, and reports
// false when it already was.
func (h *homes) claim(user, fingerprint string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser[user] == fingerprint {
		return false
	}
	if h.byUser == nil || len(h.byUser) >= maxHomes {
		h.byUser = map[string]string{}
	}
	h.byUser[user] = fingerprint
	return true
}

// forget undoes a claim whose publish failed.
func (h *homes) forget(user, fingerprint string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byUser[user] == fingerprint {
		delete(h.byUser, user)
	}
}

// homeFingerprint is what a Home shows, in short: its language, whether the
// person is on the list, and the settings it describes.
func homeFingerprint(w *words, allowed bool, a answerFor) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%v|%s|%v|%+v|%s", languageOf(w), allowed, a.command, a.surfaces, a.contact, a.version))
	return hex.EncodeToString(sum[:8])
}

// languageOf is the language w speaks, as [Languages] names it.
func languageOf(w *words) string {
	for lang, c := range catalogues {
		if c == w {
			return lang
		}
	}
	return ""
}
