package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// access decides who may use the bot: listed users, and members of listed
// user groups as last read from Slack. Everyone else is denied. A group that
// could not be read for longer than maxStale no longer vouches for anyone:
// its members are told their access cannot be confirmed until a read
// succeeds. It is safe for concurrent use.
type access struct {
	users    map[string]bool
	groups   []string
	maxStale time.Duration
	members  func(ctx context.Context, group string) ([]string, error)

	mu      sync.RWMutex
	byGroup map[string]*groupState
}

type groupState struct {
	members map[string]bool // as last read; nil if never read
	readAt  time.Time       // of the last successful read
	failing bool            // the last read failed
	stale   bool            // reported stale, until a read succeeds
}

// accessVerdict is what access says about a person.
type accessVerdict int

const (
	denied accessVerdict = iota
	allowed
	unconfirmed // only a group that cannot be read now could vouch for them
)

func newAccess(users, groups []string, maxStale time.Duration, members func(context.Context, string) ([]string, error)) *access {
	a := &access{users: map[string]bool{}, groups: groups, maxStale: maxStale, members: members, byGroup: map[string]*groupState{}}
	for _, u := range users {
		a.users[u] = true
	}
	for _, g := range groups {
		a.byGroup[g] = &groupState{}
	}
	return a
}

// check says whether the Slack user may fetch reports at now.
func (a *access) check(user string, now time.Time) accessVerdict {
	if a.users[user] {
		return allowed
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	v := denied
	for _, g := range a.groups {
		st := a.byGroup[g]
		switch {
		case st.members == nil || now.Sub(st.readAt) > a.maxStale:
			if st.members == nil || st.members[user] {
				v = unconfirmed
			}
		case st.members[user]:
			return allowed
		}
	}
	return v
}

// groupChange is a group crossing a line worth one log line.
type groupChange struct {
	group  string
	change groupChangeKind
	err    error // why the read failed, for failing and stale
}

type groupChangeKind int

const (
	groupFailing   groupChangeKind = iota + 1 // a read just failed
	groupStale                                // reads have failed for longer than maxStale: it vouches for no one
	groupRecovered                            // read again after going stale
)

// refresh reads every group's members at now. A group that cannot be read
// keeps the members it had. It returns the groups that just started
// failing, just went stale, or just recovered from being stale, and how
// many people the groups allow. Reads cut short by cancelling ctx change
// nothing; a read that runs out of ctx's time has failed.
func (a *access) refresh(ctx context.Context, now time.Time) (changes []groupChange, members int) {
	type read struct {
		users []string
		err   error
	}
	reads := make([]read, len(a.groups))
	for i, g := range a.groups {
		reads[i].users, reads[i].err = a.members(ctx, g)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, 0 // shutting down: a read cut short says nothing about the group
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	everyone := map[string]bool{}
	for i, g := range a.groups {
		st, r := a.byGroup[g], reads[i]
		if r.err == nil {
			if st.stale {
				changes = append(changes, groupChange{group: g, change: groupRecovered})
			}
			st.members, st.readAt, st.failing, st.stale = map[string]bool{}, now, false, false
			for _, u := range r.users {
				st.members[u] = true
			}
		} else {
			err := &GroupError{Group: g, Err: r.err}
			switch {
			case !st.stale && (st.members == nil || now.Sub(st.readAt) > a.maxStale):
				st.stale = true
				changes = append(changes, groupChange{group: g, change: groupStale, err: err})
			case !st.failing && !st.stale:
				changes = append(changes, groupChange{group: g, change: groupFailing, err: err})
			}
			st.failing = true
		}
		for u := range st.members {
			everyone[u] = true
		}
	}
	return changes, len(everyone)
}

// stale lists the groups that vouch for no one now.
func (a *access) stale(now time.Time) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var groups []string
	for _, g := range a.groups {
		if st := a.byGroup[g]; st.members == nil || now.Sub(st.readAt) > a.maxStale {
			groups = append(groups, g)
		}
	}
	return slices.Clip(groups)
}

// GroupError means a user group's members could not be read.
type GroupError struct {
	Group string
	Err   error
}

func (e *GroupError) Error() string { return fmt.Sprintf("bot: user group %s: %v", e.Group, e.Err) }
func (e *GroupError) Unwrap() error { return e.Err }

func (k groupChangeKind) String() string {
	switch k {
	case groupFailing:
		return "failing"
	case groupStale:
		return "stale"
	case groupRecovered:
		return "recovered"
	}
	return "none"
}
