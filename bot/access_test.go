package bot

import (
	"context"
	"errors"
	"testing"
)

func TestAccessKeepsLastMembersOfAGroupThatFails(t *testing.T) {
	t.Parallel()
	members := map[string][]string{"S1": {"U1", "U2"}, "S2": {"U3"}}
	failing := map[string]bool{}
	a := newAccess([]string{"U0"}, []string{"S1", "S2"}, func(_ context.Context, g string) ([]string, error) {
		if failing[g] {
			return nil, errors.New("slack is down")
		}
		return members[g], nil
	})
	if a.Allowed("U1") {
		t.Error("U1 allowed before the groups were read")
	}
	if n, err := a.refresh(t.Context()); n != 3 || err != nil {
		t.Fatalf("refresh = %d, %v; want 3 members", n, err)
	}
	members["S1"], members["S2"] = []string{"U2"}, []string{"U4"}
	failing["S2"] = true
	if _, err := a.refresh(t.Context()); err == nil {
		t.Error("refresh with a failing group returned no error")
	}
	for user, want := range map[string]bool{"U0": true, "U1": false, "U2": true, "U3": true, "U4": false, "": false, "U9": false} {
		if got := a.Allowed(user); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", user, got, want)
		}
	}
}
