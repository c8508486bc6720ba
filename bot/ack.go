package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// pendingAck is an ack on its way to slack-go, with what the log needs if it
// cannot be written.
type pendingAck struct {
	envelopeID string
	kind       string
	user       string
	recordNo   string
	payload    any       // a command's immediate reply; nil for a bare ack
	read       time.Time // when the loop read the envelope
}

// acker hands acks to slack-go in the order they were queued, from its own
// goroutine: slack-go's queue is short, and a full one blocks until the
// socket takes a write, which the event loop must never wait for. Its queue
// grows with the envelopes Slack has sent and nobody acked yet, which Slack
// bounds.
type acker struct {
	sm       *socketmode.Client
	log      *slog.Logger
	observer Observer

	mu    sync.Mutex
	queue []pendingAck
	spare []pendingAck // the last batch's array, reused: a burst allocates no new queue
	wake  chan struct{}
}

func newAcker(sm *socketmode.Client, log *slog.Logger, observer Observer) *acker {
	return &acker{sm: sm, log: log, observer: observer, wake: make(chan struct{}, 1)}
}

// push queues an ack; it never blocks.
func (a *acker) push(p pendingAck) {
	a.mu.Lock()
	a.queue = append(a.queue, p)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// run hands queued acks to slack-go until ctx is done, then hands over what
// is still queued, each within ackTimeout.
func (a *acker) run(ctx context.Context) {
	for {
		select {
		case <-a.wake:
			a.flush(ctx)
		case <-ctx.Done():
			a.flush(context.WithoutCancel(ctx))
			return
		}
	}
}

// flush hands over what is queued, a batch at a time. A batch that slack-go
// does not take within ackTimeout (no socket) fails: Slack has shown those
// people an error by then anyway, and will redeliver.
func (a *acker) flush(ctx context.Context) {
	for {
		a.mu.Lock()
		batch := a.queue
		a.queue, a.spare = a.spare[:0], nil
		a.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, ackTimeout)
		for _, p := range batch {
			a.observer.Acked(time.Since(p.read))
			if err := a.sm.AckCtx(ctx, p.envelopeID, p.payload); err != nil {
				a.log.Error("could not ack; the person may see a Slack error", "envelope_id", p.envelopeID,
					"kind", p.kind, "user", p.user, "record", p.recordNo, "error", err)
			}
		}
		cancel()
		clear(batch) // drop the payloads
		a.mu.Lock()
		a.spare = batch[:0]
		a.mu.Unlock()
	}
}

// How long and how many envelopes the bot remembers to recognise a
// redelivery. Slack redelivers within minutes; the cap bounds memory under a
// flood (an entry is a few hundred bytes plus a command's immediate reply).
const (
	rememberFor     = 10 * time.Minute
	rememberAtMost  = 20000
	forgetEachVisit = 64
)

// seenEnvelopes remembers recently read envelopes, oldest first, by the
// time the loop read them, with what their first ack carried. It is safe
// for concurrent use: the loop remembers, the settler and the answers ack.
type seenEnvelopes struct {
	mu    sync.Mutex
	byID  map[string]*seenEnvelope
	order []*seenEnvelope
}

type seenEnvelope struct {
	pendingAck
	acked bool // the first ack is queued: payload is what it carried
}

func newSeenEnvelopes() *seenEnvelopes {
	return &seenEnvelopes{byID: map[string]*seenEnvelope{}}
}

// remember notes an envelope the loop has just read, not acked yet.
func (s *seenEnvelopes) remember(p pendingAck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(p.read)
	e := &seenEnvelope{pendingAck: p}
	s.byID[p.envelopeID] = e
	s.order = append(s.order, e)
}

// acked records the first ack of a remembered envelope.
func (s *seenEnvelopes) acked(p pendingAck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byID[p.envelopeID]; e != nil && !e.acked {
		e.acked, e.kind, e.user, e.recordNo, e.payload = true, p.kind, p.user, p.recordNo, p.payload
	}
}

// forget drops a few entries that are too old or over the cap: a bounded
// amount of work per envelope.
func (s *seenEnvelopes) forget(now time.Time) {
	for range forgetEachVisit {
		if len(s.order) == 0 || (now.Sub(s.order[0].read) < rememberFor && len(s.order) < rememberAtMost) {
			break
		}
		if s.byID[s.order[0].envelopeID] == s.order[0] {
			delete(s.byID, s.order[0].envelopeID)
		}
		s.order[0] = nil
		s.order = s.order[1:]
	}
}

// trim drops every entry too old to matter, however many: the loop only
// forgets a few per envelope, so after a flood the memory would otherwise
// wait for the next envelopes.
func (s *seenEnvelopes) trim(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) > 0 && (now.Sub(s.order[0].read) >= rememberFor || len(s.order) > rememberAtMost) {
		if s.byID[s.order[0].envelopeID] == s.order[0] {
			delete(s.byID, s.order[0].envelopeID)
		}
		s.order[0] = nil
		s.order = s.order[1:]
	}
	if len(s.order) == 0 {
		s.order = nil // let the backing array go
	}
}

// lookup returns what was acked for an envelope.
func (s *seenEnvelopes) lookup(envelopeID string) (pendingAck, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[envelopeID]
	if !ok || !e.acked || time.Since(e.read) >= rememberFor {
		return pendingAck{}, false
	}
	return e.pendingAck, true
}

// ackAgain acks a redelivered envelope with the payload of its first ack,
// which may be the one Slack lost. pending means the envelope was read but
// its first ack is not queued yet: that ack will do for both. Both are
// false if the envelope is new.
func (s *seenEnvelopes) ackAgain(envelopeID string, read time.Time, acks *acker) (again, pending bool) {
	s.mu.Lock()
	e, ok := s.byID[envelopeID]
	if ok && read.Sub(e.read) >= rememberFor {
		ok = false
	}
	var p pendingAck
	if ok {
		p, pending = e.pendingAck, !e.acked
	}
	s.mu.Unlock()
	if ok && !pending {
		p.read = read
		acks.push(p)
		return true, false
	}
	return false, pending
}
