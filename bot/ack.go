package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/internal/batch"
)

// acks writes every ack, from a goroutine of its own: the decision
// goroutine hands it a batch's acks and goes on to the next batch (whose
// round trip to a shared ledger overlaps these writes). Each ack is
// remembered with its body, so that a redelivery is acked the same way.
type acks struct {
	ledger   Ledger
	observer Observer
	log      *slog.Logger
	seen     *seenDeliveries
	queue    *batch.Queue[pendingAck]
}

// pendingAck is an ack on its way to the transport.
type pendingAck struct {
	req  *request
	body json.RawMessage
}

func newAcks(ledger Ledger, observer Observer, log *slog.Logger, seen *seenDeliveries) *acks {
	a := &acks{ledger: ledger, observer: observer, log: log, seen: seen}
	a.queue = batch.New(0, func(batch []pendingAck) {
		ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
		defer cancel()
		for _, p := range batch {
			a.write(ctx, p)
		}
	})
	return a
}

// run writes queued acks until ctx is done, then what is still queued.
func (a *acks) run(ctx context.Context) { a.queue.Run(ctx) }

// wait waits until every queued ack is written.
func (a *acks) wait() { a.queue.Wait() }

// send queues req's one ack; body is what it carries (nil for a bare ack).
// share passes an answer on to the ledger, for a redelivery that reaches
// another replica. Only [Bot.conclude] calls it.
func (a *acks) send(req *request, body json.RawMessage, share bool) {
	if len(body) == 0 {
		body = nil // an empty body is no body
	}
	a.seen.recordAck(req.key, body)
	if share && body != nil {
		a.ledger.ShareAck(req.key, body)
	}
	a.queue.Push(pendingAck{req, body})
}

// write hands an ack to the transport. One the transport does not take
// within ctx fails: Slack has shown the person an error by then anyway,
// and will redeliver.
func (a *acks) write(ctx context.Context, p pendingAck) {
	a.observer.Acked(time.Since(p.req.received))
	if err := p.req.ack.Ack(ctx, p.req.ackRef, p.body); err != nil {
		a.log.Error("could not ack; the person may see a Slack error", "delivery", p.req.key,
			"entry", p.req.entry, "user", p.req.user, "error", err)
	}
	if p.req.ackWritten != nil {
		close(p.req.ackWritten)
	}
}

// seenDeliveries remembers recent deliveries, oldest first, by when they
// were received, with what their first ack carried: the decision goroutine
// recognises a delivery sent again by it. It is safe for concurrent use.
type seenDeliveries struct {
	mu    sync.Mutex
	byKey map[string]*seenDelivery
	order []*seenDelivery
	bytes int
}

type seenDelivery struct {
	key      string
	received time.Time
	body     json.RawMessage // what the first ack carried
	acked    bool
}

func (e *seenDelivery) size() int { return entryOverhead + len(e.key) + len(e.body) }

func newSeenDeliveries() *seenDeliveries {
	return &seenDeliveries{byKey: map[string]*seenDelivery{}}
}

// remember notes a delivery just received; it reports false, and changes
// nothing, if it was received before: a redelivery.
func (s *seenDeliveries) remember(req *request) (isNew bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[req.key]; ok && req.received.Sub(e.received) < RememberFor {
		return false
	}
	e := &seenDelivery{key: req.key, received: req.received}
	s.byKey[e.key] = e
	s.order = append(s.order, e)
	s.bytes += e.size()
	s.forget(req.received, forgetEachVisit)
	return true
}

// recordAck records the first ack of a remembered delivery.
func (s *seenDeliveries) recordAck(key string, body json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[key]; e != nil && !e.acked {
		e.acked, e.body = true, body
		s.bytes += len(body)
	}
}

// firstAck is what the first ack of a delivery carried; ok is false if it
// is forgotten or not acked yet.
func (s *seenDeliveries) firstAck(key string) (body json.RawMessage, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil || !e.acked {
		return nil, false
	}
	return e.body, true
}

// forgetEachVisit bounds the forgetting done per delivery received.
const forgetEachVisit = 64

// forget drops at most n entries that are too old or over the cap.
func (s *seenDeliveries) forget(now time.Time, n int) {
	for ; n > 0 && len(s.order) > 0; n-- {
		e := s.order[0]
		if now.Sub(e.received) < RememberFor && s.bytes <= rememberBytes {
			break
		}
		if s.byKey[e.key] == e {
			delete(s.byKey, e.key)
		}
		s.bytes -= e.size()
		s.order[0] = nil
		s.order = s.order[1:]
	}
	if len(s.order) == 0 {
		s.order = nil // let the backing array go
	}
}

// trim drops every entry too old to matter, however many: remember only
// forgets a few per delivery, so after a flood the memory would otherwise
// wait for the next deliveries.
func (s *seenDeliveries) trim(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now, len(s.order))
}
