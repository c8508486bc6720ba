package bot

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// userInfoer is what [locales] needs of a Slack client: users.info. A
// *slack.Client is one.
type userInfoer interface {
	GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error)
}

// errLocaleSlow: a person's Slack locale was not read in time; they are
// answered in the fallback language while the lookup goes on.
var errLocaleSlow = errors.New("bot: users.info is slow; answering in the fallback language")

// locales is each person's language, read from their Slack locale with
// users.info (include_locale=true, scope users:read) and kept for a few
// hours: "zh-CN" and "zh-Hans" are Chinese, "en-*" English, and any locale
// the bot does not speak (zh-TW, ja-JP, none) is the fallback language.
//
// A lookup never holds up an answer for more than wait: whoever asks while
// it runs gets the fallback language, and the next ask the person's own.
// One lookup at a time per person, at most maxInFlight in all, each
// bounded by timeout and not by the caller's context (others may be
// waiting for it). A failed lookup is kept for failTTL, so a failing Slack
// is not asked again on every message. The cache holds at most max people,
// the oldest looked up dropped first.
//
// Its methods are safe for concurrent use. The zero value is not usable:
// make one with [newLocales].
type locales struct {
	api      userInfoer
	fallback string

	ttl         time.Duration // how long a person's language is kept
	failTTL     time.Duration // how long a failed lookup is kept (the fallback language)
	wait        time.Duration // the longest a caller waits for a lookup
	timeout     time.Duration // the longest a lookup runs
	max         int           // people kept
	maxInFlight int           // lookups at once
	now         func() time.Time

	mu       sync.Mutex
	people   map[string]*localeEntry
	order    *list.List // of *localeEntry, oldest lookup first
	inFlight int
}

type localeEntry struct {
	user     string
	elem     *list.Element
	done     chan struct{} // closed when the lookup has ended; then:
	lang     string
	err      error
	expires  time.Time
	reported bool // a failure or slowness of this lookup has been returned once
}

// newLocales makes a cache of people's languages, falling back to
// fallback (one of [Languages]).
func newLocales(api userInfoer, fallback string) *locales {
	return &locales{
		api:         api,
		fallback:    fallback,
		ttl:         localeTTL,
		failTTL:     localeFailTTL,
		wait:        localeWait,
		timeout:     localeTimeout,
		max:         localePeople,
		maxInFlight: localeLookups,
		now:         time.Now,
		people:      map[string]*localeEntry{},
		order:       list.New(),
	}
}

// Language is the language to answer user in. It waits for a lookup at
// most l.wait (less if ctx ends first). err is not nil once per failed or
// slow lookup, for the caller to log: lang is then the fallback language,
// as it is for every other caller until the lookup is done or retried.
func (l *locales) Language(ctx context.Context, user string) (lang string, err error) {
	now := l.now()
	l.mu.Lock()
	e := l.people[user]
	if e != nil && isDone(e) && !now.Before(e.expires) {
		l.drop(e)
		e = nil
	}
	if e == nil {
		if l.inFlight >= l.maxInFlight {
			l.mu.Unlock()
			return l.fallback, nil // Slack is slow for many people at once: the slow lookups have said so
		}
		e = l.start(user)
	}
	l.mu.Unlock()

	if !isDone(e) {
		t := time.NewTimer(l.wait)
		select {
		case <-e.done:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case !isDone(e):
		if !e.reported {
			e.reported = true
			return l.fallback, errLocaleSlow
		}
		return l.fallback, nil
	case e.err != nil && !e.reported:
		e.reported = true
		return e.lang, e.err
	}
	return e.lang, nil
}

// Known is the language to answer user in if it is known now; it never
// waits. When it is not known, a lookup starts (if none is running) for
// [locales.Language] to wait on.
func (l *locales) Known(user string) (lang string, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.people[user]
	switch {
	case e != nil && isDone(e) && now.Before(e.expires):
		return e.lang, true
	case e == nil || isDone(e):
		if e != nil {
			l.drop(e)
		}
		if l.inFlight < l.maxInFlight {
			l.start(user)
		}
	}
	return "", false
}

// start begins a lookup of user's language, keeping at most l.max people.
// The caller holds l.mu and has checked l.inFlight.
func (l *locales) start(user string) *localeEntry {
	e := &localeEntry{user: user, done: make(chan struct{})}
	e.elem = l.order.PushBack(e)
	l.people[user] = e
	for len(l.people) > l.max {
		l.drop(l.order.Front().Value.(*localeEntry))
	}
	l.inFlight++
	go l.lookUp(e)
	return e
}

// lookUp reads a person's locale and keeps what it makes of it.
func (l *locales) lookUp(e *localeEntry) {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	u, err := l.api.GetUserInfoContext(ctx, e.user, slack.GetUserInfoOptionIncludeLocale(true))
	lang, ttl := l.fallback, l.ttl
	if err != nil {
		err, ttl = fmt.Errorf("bot: reading the Slack locale of %s: %w; answering in the fallback language", e.user, err), l.failTTL
	} else if got, ok := Language(u.Locale); ok {
		lang = got
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e.lang, e.err, e.expires = lang, err, l.now().Add(ttl)
	l.inFlight--
	close(e.done)
}

// drop forgets an entry. Callers waiting on it still get its answer.
func (l *locales) drop(e *localeEntry) {
	if l.people[e.user] == e {
		delete(l.people, e.user)
	}
	l.order.Remove(e.elem)
}

func isDone(e *localeEntry) bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}
