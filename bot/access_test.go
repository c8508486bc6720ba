package bot

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAccessFailsClosed walks two groups through reads that work, fail for
// a while (last members kept), fail for too long (members unconfirmed, not
// denied outright) and work again.
func TestAccessFailsClosed(t *testing.T) {
	t.Parallel()
	const maxStale = 15 * time.Minute
	members := map[string][]string{"S1": {"U1", "U2"}, "S2": {"U3"}}
	failing := map[string]bool{}
	a := newAccess([]string{"U0"}, []string{"S1", "S2"}, maxStale, func(_ context.Context, g string) ([]string, error) {
		if failing[g] {
			return nil, errors.New("slack is down")
		}
		return members[g], nil
	})
	start := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	type want map[string]accessVerdict
	check := func(step string, now time.Time, w want) {
		t.Helper()
		for user, v := range w {
			if got := a.check(user, now); got != v {
				t.Errorf("%s: check(%q) = %v, want %v", step, user, got, v)
			}
		}
	}
	kinds := func(changes []groupChange) (s []string) {
		for _, c := range changes {
			s = append(s, c.group+" "+c.change.String())
		}
		return s
	}

	check("before any read", start, want{"U0": allowed, "U1": unconfirmed, "U9": unconfirmed})
	if changes, n := a.refresh(t.Context(), start); len(changes) != 0 || n != 3 {
		t.Fatalf("first read: %v, %d members; want no changes, 3 members", kinds(changes), n)
	}
	check("after a read", start, want{"U0": allowed, "U1": allowed, "U3": allowed, "U9": denied, "": denied})

	members["S1"] = []string{"U2"}
	failing["S2"] = true
	changes, _ := a.refresh(t.Context(), at(time.Minute))
	if got := kinds(changes); len(got) != 1 || got[0] != "S2 failing" {
		t.Errorf("S2 fails: changes %v, want S2 failing", got)
	}
	check("S2 failing briefly", at(time.Minute), want{"U1": denied, "U2": allowed, "U3": allowed})
	if changes, _ := a.refresh(t.Context(), at(10*time.Minute)); len(changes) != 0 {
		t.Errorf("S2 still failing: changes %v, want none (said once)", kinds(changes))
	}

	stale := at(maxStale + 2*time.Minute)
	check("S2 unread too long", stale, want{"U3": unconfirmed, "U2": allowed, "U9": denied, "U0": allowed})
	changes, _ = a.refresh(t.Context(), stale)
	if got := kinds(changes); len(got) != 1 || got[0] != "S2 stale" {
		t.Errorf("S2 stale: changes %v, want S2 stale", got)
	}
	if g := a.stale(stale); len(g) != 1 || g[0] != "S2" {
		t.Errorf("stale groups = %v, want [S2]", g)
	}
	if changes, _ := a.refresh(t.Context(), stale.Add(time.Minute)); len(changes) != 0 {
		t.Errorf("S2 still stale: changes %v, want none (said once)", kinds(changes))
	}

	failing["S2"] = false
	members["S2"] = []string{"U4"}
	changes, _ = a.refresh(t.Context(), stale.Add(2*time.Minute))
	if got := kinds(changes); len(got) != 1 || got[0] != "S2 recovered" {
		t.Errorf("S2 back: changes %v, want S2 recovered", got)
	}
	check("S2 read again", stale.Add(2*time.Minute), want{"U3": denied, "U4": allowed})
	if g := a.stale(stale.Add(2 * time.Minute)); len(g) != 0 {
		t.Errorf("stale groups after recovery = %v", g)
	}
}

// TestAccessIgnoresReadsCutShort: a shutdown cancelling a read is not the
// group failing.
func TestAccessIgnoresReadsCutShort(t *testing.T) {
	t.Parallel()
	a := newAccess(nil, []string{"S1"}, time.Minute, func(ctx context.Context, _ string) ([]string, error) {
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if changes, _ := a.refresh(ctx, time.Now()); len(changes) != 0 {
		t.Errorf("a cancelled read changed %+v", changes)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 0)
	defer cancel()
	if changes, _ := a.refresh(ctx, time.Now()); len(changes) != 1 || changes[0].change != groupStale {
		t.Errorf("a read out of time: %+v, want the never-read group stale", changes)
	}
}
