package bot

import (
	"context"
	"errors"
	"maps"
	"sync"
)

// access decides who may use the bot: listed users and members of listed
// user groups. Everyone else is denied. It is safe for concurrent use.
type access struct {
	users   map[string]bool
	groups  []string
	members func(ctx context.Context, group string) ([]string, error)

	mu      sync.RWMutex
	byGroup map[string][]string // last members seen of each group
	allowed map[string]bool     // the union of byGroup
}

func newAccess(users, groups []string, members func(context.Context, string) ([]string, error)) *access {
	a := &access{users: map[string]bool{}, groups: groups, members: members, byGroup: map[string][]string{}, allowed: map[string]bool{}}
	for _, u := range users {
		a.users[u] = true
	}
	return a
}

// Allowed reports whether the Slack user may fetch reports.
func (a *access) Allowed(userID string) bool {
	if a.users[userID] {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.allowed[userID]
}

// refresh reads every group's members. A group that cannot be read keeps
// the members it had; the error names it.
func (a *access) refresh(ctx context.Context) (members int, err error) {
	var errs []error
	fresh := map[string][]string{}
	for _, g := range a.groups {
		users, err := a.members(ctx, g)
		if err != nil {
			errs = append(errs, &GroupError{Group: g, Err: err})
			continue
		}
		fresh[g] = users
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	maps.Copy(a.byGroup, fresh)
	a.allowed = map[string]bool{}
	for _, users := range a.byGroup {
		for _, u := range users {
			a.allowed[u] = true
		}
	}
	return len(a.allowed), errors.Join(errs...)
}
