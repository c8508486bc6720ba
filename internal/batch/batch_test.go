package batch

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// TestOrderAndBounds: items from one producer arrive in push order, every
// item exactly once, in batches no larger than the bound; Wait returns
// only when all of them have been handled.
func TestOrderAndBounds(t *testing.T) {
	t.Parallel()
	for _, bound := range []int{0, 1, 7} {
		var (
			mu      sync.Mutex
			got     []int
			biggest int
		)
		q := New(bound, func(b []int) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, b...)
			biggest = max(biggest, len(b))
		})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { q.Run(ctx); close(done) }()
		const n = 5000
		for i := range n {
			q.Push(i)
		}
		q.Wait()
		mu.Lock()
		if len(got) != n || !slices.IsSorted(got) || got[n-1] != n-1 {
			t.Errorf("bound %d: handled %d items (sorted %v), want 0..%d in order", bound, len(got), slices.IsSorted(got), n-1)
		}
		if bound > 0 && biggest > bound {
			t.Errorf("bound %d: a batch of %d", bound, biggest)
		}
		mu.Unlock()
		cancel()
		<-done
	}
}

// TestRunHandsOverWhatIsLeft: items pushed before Run stops are handled
// before it returns, even with no wake-up left.
func TestRunHandsOverWhatIsLeft(t *testing.T) {
	t.Parallel()
	var got []string
	q := New(0, func(b []string) { got = append(got, b...) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	q.Push("a")
	q.Push("b")
	q.Run(ctx)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("after Run on a cancelled context: handled %q, want [a b]", got)
	}
}

// TestManyProducers: pushes from many goroutines each arrive once, and
// each producer's own items keep their order.
func TestManyProducers(t *testing.T) {
	t.Parallel()
	type item struct{ producer, n int }
	var got []item
	q := New(0, func(b []item) { got = append(got, b...) })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Go(func() {
			for n := range 500 {
				q.Push(item{p, n})
			}
		})
	}
	wg.Wait()
	q.Wait()
	cancel()
	<-done
	next := make([]int, 8)
	for _, it := range got {
		if it.n != next[it.producer] {
			t.Fatalf("producer %d: got item %d, want %d", it.producer, it.n, next[it.producer])
		}
		next[it.producer]++
	}
	if len(got) != 8*500 {
		t.Errorf("handled %d items, want %d", len(got), 8*500)
	}
}
