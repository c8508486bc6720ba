package bot

import (
	"context"
	"sync"
)

// settling is an envelope the loop has decided as far as it can alone,
// on its way to the ledger.
type settling struct {
	job   *job
	res   result // how it ends, unless fetch
	fetch bool   // ask the vendor, if the person has a turn left
}

// settler hands what the loop decided to the [Ledger] in batches, in the
// order the loop read the envelopes, from its own goroutine: a ledger in
// Redis answers a whole burst in one round trip, and the loop never waits
// for it. Its queue grows with the envelopes Slack has sent and the ledger
// has not answered yet, which Slack bounds.
type settler struct {
	mu    sync.Mutex
	queue []settling
	wake  chan struct{}
}

func newSettler() *settler { return &settler{wake: make(chan struct{}, 1)} }

// push queues x; it never blocks.
func (s *settler) push(x settling) {
	s.mu.Lock()
	s.queue = append(s.queue, x)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runSettler settles queued envelopes until stop is done, then settles what
// is still queued. Work that the settled envelopes start runs under work.
func (b *Bot) runSettler(stop, work context.Context) {
	for {
		select {
		case <-b.settler.wake:
			b.settleQueued(work)
		case <-stop.Done():
			b.settleQueued(work)
			return
		}
	}
}

func (b *Bot) settleQueued(work context.Context) {
	for {
		b.settler.mu.Lock()
		batch := b.settler.queue
		b.settler.queue = nil
		b.settler.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		claims := make([]Claim, len(batch))
		for i, x := range batch {
			claims[i] = Claim{EnvelopeID: x.job.envelopeID, User: x.job.user, Turn: x.fetch}
		}
		settled := b.cfg.Ledger.Settle(context.WithoutCancel(work), claims)
		for i, x := range batch {
			b.settle(work, x, settled[i])
			b.wg.Done()
		}
	}
}
