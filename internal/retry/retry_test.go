package retry

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestDo(t *testing.T) {
	t.Parallel()
	errFlaky, errFinal := errors.New("flaky"), errors.New("final")
	for _, tt := range []struct {
		name    string
		tries   int
		results []error // what each try returns; errFinal is not worth trying again
		calls   int
		want    error
	}{
		{"first try works", 3, []error{nil}, 1, nil},
		{"second try works", 3, []error{errFlaky, nil}, 2, nil},
		{"every try fails", 3, []error{errFlaky, errFlaky, errFlaky, nil}, 3, errFlaky},
		{"a failure not worth trying again", 3, []error{errFinal, nil}, 1, errFinal},
		{"one try", 1, []error{errFlaky, nil}, 1, errFlaky},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				var pauses []time.Duration
				start := time.Now()
				err := Do(t.Context(), tt.tries, func(n int) time.Duration { return 100 * time.Millisecond << n }, func(n int) (bool, error) {
					if n != calls {
						t.Errorf("try %d called as %d", calls, n)
					}
					pauses = append(pauses, time.Since(start))
					calls++
					return tt.results[n] == errFlaky, tt.results[n]
				})
				if calls != tt.calls || !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Errorf("Do: %d calls, error %v; want %d calls, error %v", calls, err, tt.calls, tt.want)
				}
				// The pauses double: 100 ms, then 200 ms more.
				for i, at := range pauses {
					if want := time.Duration(100*((1<<i)-1)) * time.Millisecond; at != want {
						t.Errorf("try %d at %v, want %v", i, at, want)
					}
				}
			})
		})
	}
}

func TestDoStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		errFlaky := errors.New("flaky")
		calls := 0
		err := Do(ctx, 5, func(int) time.Duration { return time.Second }, func(int) (bool, error) { calls++; return true, errFlaky })
		var interrupted *InterruptedError
		if calls != 1 || !errors.As(err, &interrupted) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errFlaky) {
			t.Errorf("Do with a context ending in the pause: %d calls, error %v; want 1 call and an InterruptedError", calls, err)
		}
	})
}
