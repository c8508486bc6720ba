package httpmode

import "sync"

// unverifiedBudget is how many bytes of request bodies may be held before
// their signature is checked: sixteen bodies of the largest size, far more
// than Slack sends at once (its payloads are a few KB), and a bound on what
// anyone without the signing secret can make the bot hold.
const unverifiedBudget = 16 * maxBody

// byteBudget is a count of bytes that may be taken and given back. It is
// safe for concurrent use.
type byteBudget struct {
	mu   sync.Mutex
	left int64
}

// take takes n bytes if they are left, and reports whether it did.
func (b *byteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return false
	}
	b.left -= n
	return true
}

// give gives n bytes back.
func (b *byteBudget) give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.left += n
}
