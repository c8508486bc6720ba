package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/internal/batch"
	"github.com/slack-go/slack/socketmode"
)

// ackTimeout bounds the acks of one batch: slack-go takes an ack only when
// its short queue has room, and Slack shows operation_timeout after 3s
// anyway (then redelivers).
const ackTimeout = 3 * time.Second

// acks is the one place acks are sent from. Each is remembered, with what
// it carried, so that a redelivery is acked the same way. With a ledger
// that answers at once (one replica) the settle goroutine writes its acks
// itself; with a shared one, it queues them for a goroutine of their own,
// so that the next batch's round trip to the ledger overlaps this batch's
// acks. (slack-go's queue is short, and a full one blocks until the socket
// takes a write.) The read loop never acks.
type acks struct {
	sm       *socketmode.Client
	ledger   Ledger
	observer Observer
	log      *slog.Logger
	seen     *seenEnvelopes
	queue    *batch.Queue[pendingAck] // nil: written by whoever sends
}

// pendingAck is an ack on its way to slack-go.
type pendingAck struct {
	env     *envelope
	payload json.RawMessage
}

func newAcks(sm *socketmode.Client, ledger Ledger, observer Observer, log *slog.Logger, seen *seenEnvelopes) *acks {
	a := &acks{sm: sm, ledger: ledger, observer: observer, log: log, seen: seen}
	if !ledger.Immediate() {
		a.queue = batch.New(0, func(batch []pendingAck) {
			ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
			defer cancel()
			for _, p := range batch {
				a.write(ctx, p)
			}
		})
	}
	return a
}

// run writes queued acks until ctx is done, then what is still queued.
func (a *acks) run(ctx context.Context) {
	if a.queue != nil {
		a.queue.Run(ctx)
	}
}

// wait waits until every queued ack is written.
func (a *acks) wait() {
	if a.queue != nil {
		a.queue.Wait()
	}
}

// send acks env, with payload as a command's immediate reply (the answer's
// JSON or the progress note; nil for a bare ack), within ctx if it writes
// it itself. share passes an answer on to the ledger, for a redelivery that
// reaches another replica.
func (a *acks) send(ctx context.Context, env *envelope, payload json.RawMessage, share bool) {
	if len(payload) == 0 {
		payload = nil // an empty payload is no payload: slack-go cannot encode it
	}
	a.seen.acked(env.key, payload)
	if share {
		a.ledger.Acked(env.key, payload)
	}
	if a.queue != nil {
		a.queue.Push(pendingAck{env, payload})
		return
	}
	a.write(ctx, pendingAck{env, payload})
}

// write hands an ack to slack-go. One that slack-go does not take within
// ctx (no socket) fails: Slack has shown the person an error by then
// anyway, and will redeliver.
func (a *acks) write(ctx context.Context, p pendingAck) {
	var payload any
	if p.payload != nil {
		payload = p.payload // an untyped nil sends no "payload" at all
	}
	a.observer.Acked(time.Since(p.env.read))
	if err := a.sm.AckCtx(ctx, p.env.id, payload); err != nil {
		a.log.Error("could not ack; the person may see a Slack error", "envelope_id", p.env.key,
			"kind", p.env.kind, "user", p.env.user, "error", err)
	}
}

// How long, and within how many bytes, the bot remembers envelopes to
// recognise a redelivery. Slack redelivers within minutes. An entry costs
// its key (at most 71 bytes, see keyOf), its first ack's payload and a
// fixed overhead; past the cap the oldest go first, so a flood costs at
// most rememberBytes, and a redelivery of an envelope forgotten that way is
// served again.
const (
	rememberFor   = 10 * time.Minute
	rememberBytes = 4 << 20
	entryOverhead = 160 // the entry, its map slot and its place in the order
)

// seenEnvelopes remembers recently read envelopes, oldest first, by the
// time the loop read them, with what their first ack carried. It is safe
// for concurrent use.
type seenEnvelopes struct {
	mu    sync.Mutex
	byKey map[string]*seenEnvelope
	order []*seenEnvelope
	bytes int
}

type seenEnvelope struct {
	key, kind, user string
	read            time.Time
	payload         json.RawMessage // what the first ack carried
	acked           bool
}

func (e *seenEnvelope) size() int {
	return entryOverhead + len(e.key) + len(e.kind) + len(e.user) + len(e.payload)
}

func newSeenEnvelopes() *seenEnvelopes {
	return &seenEnvelopes{byKey: map[string]*seenEnvelope{}}
}

// remember notes an envelope just read; it reports false, and changes
// nothing, if the envelope was read before: a redelivery.
func (s *seenEnvelopes) remember(env *envelope) (isNew bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[env.key]; ok && env.read.Sub(e.read) < rememberFor {
		return false
	}
	e := &seenEnvelope{key: env.key, kind: env.kind, user: clipID(env.user), read: env.read}
	s.byKey[e.key] = e
	s.order = append(s.order, e)
	s.bytes += e.size()
	s.forget(env.read, forgetEachVisit)
	return true
}

// clipID keeps a Slack ID from outside to the length Slack's IDs have.
func clipID(id string) string { return id[:min(len(id), 32)] }

// acked records the first ack of a remembered envelope.
func (s *seenEnvelopes) acked(key string, payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[key]; e != nil && !e.acked {
		e.acked, e.payload = true, payload
		s.bytes += len(payload)
	}
}

// firstAck is what the first ack of an envelope carried; ok is false if it
// is forgotten or not acked yet.
func (s *seenEnvelopes) firstAck(key string) (payload json.RawMessage, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil || !e.acked {
		return nil, false
	}
	return e.payload, true
}

// lookup returns what is remembered of an envelope, for a log line.
func (s *seenEnvelopes) lookup(key string) (kind, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.byKey[key]; e != nil {
		return e.kind, e.user
	}
	return "", ""
}

// forgetEachVisit bounds the forgetting done per envelope read.
const forgetEachVisit = 64

// forget drops at most n entries that are too old or over the cap.
func (s *seenEnvelopes) forget(now time.Time, n int) {
	for ; n > 0 && len(s.order) > 0; n-- {
		e := s.order[0]
		if now.Sub(e.read) < rememberFor && s.bytes <= rememberBytes {
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

// trim drops every entry too old to matter, however many: the loop only
// forgets a few per envelope, so after a flood the memory would otherwise
// wait for the next envelopes.
func (s *seenEnvelopes) trim(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now, len(s.order))
}
