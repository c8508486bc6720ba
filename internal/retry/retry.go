// Package retry tries an operation a few times, pausing between tries in
// a select on the context, never in time.Sleep. The vendor client and the
// bot's answers share it: one retry loop, two policies.
package retry

import (
	"context"
	"time"
)

// Do calls try with n = 0, 1, … until it reports that trying again would
// not help, or tries calls have been made, pausing pause(n) after the n-th
// failed try. It returns the last try's error. When ctx ends during a
// pause, it returns an [*InterruptedError] wrapping both.
func Do(ctx context.Context, tries int, pause func(n int) time.Duration, try func(n int) (again bool, err error)) error {
	for n := 0; ; n++ {
		again, err := try(n)
		if err == nil || !again || n+1 >= tries {
			return err
		}
		t := time.NewTimer(pause(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return &InterruptedError{Cause: ctx.Err(), Last: err}
		}
	}
}

// InterruptedError is [Do]'s error when its context ended while it waited
// to try again. It matches both the context's error and the last try's.
type InterruptedError struct {
	Cause error // the context's error
	Last  error // the last try's
}

func (e *InterruptedError) Error() string {
	return e.Cause.Error() + " while waiting to try again after: " + e.Last.Error()
}

func (e *InterruptedError) Unwrap() []error { return []error{e.Cause, e.Last} }
