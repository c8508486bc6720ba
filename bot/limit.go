package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// personalLimits gives each person a token bucket of turns: burst turns at
// once, refilled at a steady rate. It never waits. Unlike rate.Limiter, a
// turn taken can be given back after the fact, when the vendor and not the
// person was the problem. It is safe for concurrent use; only people on the
// allowlist get a bucket, which bounds its memory.
type personalLimits struct {
	every time.Duration // one turn back per this long
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	turns float64
	at    time.Time // when turns was last brought up to date
}

func newPersonalLimits(r rate.Limit, burst int) *personalLimits {
	return &personalLimits{every: time.Duration(float64(time.Second) / float64(r)), burst: float64(burst), buckets: map[string]*bucket{}}
}

// take takes one of user's turns at now and returns 0, or, if they have
// none left, how long until their next one.
func (p *personalLimits) take(user string, now time.Time) (wait time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.refill(user, now)
	if b.turns < 1 {
		return time.Duration((1 - b.turns) * float64(p.every))
	}
	b.turns--
	return 0
}

// giveBack returns a turn taken from user.
func (p *personalLimits) giveBack(user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.refill(user, time.Now())
	b.turns = min(p.burst, b.turns+1)
}

func (p *personalLimits) refill(user string, now time.Time) *bucket {
	b, ok := p.buckets[user]
	if !ok {
		b = &bucket{turns: p.burst, at: now}
		p.buckets[user] = b
	}
	if now.After(b.at) {
		b.turns = min(p.burst, b.turns+float64(now.Sub(b.at))/float64(p.every))
		b.at = now
	}
	return b
}
