package httpmode

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// ack is one request's [bot.Acker]: it hands the ack's body to the
// goroutine answering the request, which waits for it at most ackWait.
type ack struct {
	body chan json.RawMessage // buffered 1: Ack never blocks

	mu    sync.Mutex
	state ackState
}

type ackState int

const (
	waiting ackState = iota
	acked            // Ack was called in time
	written          // the response went out without it
)

func newAck() *ack { return &ack{body: make(chan json.RawMessage, 1)} }

// Ack hands body to the request's response; it never blocks. It returns
// ErrLate when the response was already written, ErrAcked when called
// before.
func (a *ack) Ack(_ context.Context, _ string, body json.RawMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.state {
	case acked:
		return ErrAcked
	case written:
		return ErrLate
	}
	a.state = acked
	a.body <- body
	return nil
}

// wait returns the ack's body, or ok false when none came within d or
// before ctx (the request's) was done; after that, Ack returns ErrLate.
func (a *ack) wait(ctx context.Context, d time.Duration) (body json.RawMessage, ok bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case body := <-a.body:
		return body, true
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == acked { // it came as the wait ended
		return <-a.body, true
	}
	a.state = written
	return nil, false
}
