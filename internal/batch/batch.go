// Package batch hands items from any number of goroutines to one consumer,
// in the order they were pushed, as many at a time as have queued up. The
// producers never wait for the consumer, and the consumer makes one round
// trip (a pipelined Redis call, a burst of socket writes) per batch instead
// of one per item.
package batch

import (
	"context"
	"sync"
)

// Queue is a batching queue of T. Create it with [New]; Push is safe for
// concurrent use, and Run runs once.
type Queue[T any] struct {
	handle func([]T)
	max    int

	mu      sync.Mutex
	items   []T
	spare   []T // the last whole batch's array, reused: a burst allocates no new queue
	pending int // pushed and not yet handled
	idle    sync.Cond
	wake    chan struct{}
}

// New makes a queue that hands batches of at most max items (0: no bound)
// to handle, which keeps nothing of the slice after it returns: its array is
// reused.
func New[T any](max int, handle func(batch []T)) *Queue[T] {
	q := &Queue[T]{handle: handle, max: max, wake: make(chan struct{}, 1)}
	q.idle.L = &q.mu
	return q
}

// Push queues x. It never blocks: the queue grows with what the consumer
// has not taken yet, which whoever pushes must bound.
func (q *Queue[T]) Push(x T) {
	q.mu.Lock()
	q.items = append(q.items, x)
	q.pending++
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run hands batches to handle, in push order, until ctx is done; then it
// hands over what is still queued and returns.
func (q *Queue[T]) Run(ctx context.Context) {
	for {
		select {
		case <-q.wake:
			q.drain()
		case <-ctx.Done():
			q.drain()
			return
		}
	}
}

// Wait waits until everything pushed so far has been handled (or is being
// handled by a Run that returns after handing it over).
func (q *Queue[T]) Wait() {
	q.mu.Lock()
	for q.pending > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
}

func (q *Queue[T]) drain() {
	for {
		q.mu.Lock()
		batch, whole := q.items, true
		if q.max > 0 && len(batch) > q.max {
			batch, q.items, whole = batch[:q.max:q.max], batch[q.max:], false
		} else {
			q.items, q.spare = q.spare[:0], nil
		}
		q.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		q.handle(batch)
		clear(batch) // let go of what the items point to
		q.mu.Lock()
		if whole {
			q.spare = batch[:0]
		}
		q.pending -= len(batch)
		if q.pending == 0 {
			q.idle.Broadcast()
		}
		q.mu.Unlock()
	}
}
