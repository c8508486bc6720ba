package bot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot/slacktest"
)

// TestLocalesThroughSlack: each person's language from their Slack locale,
// read through the fake Slack (which gives a locale only to a request with
// include_locale=true), once per person.
func TestLocalesThroughSlack(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer()
	defer srv.Close()
	api := slack.New(srv.BotToken, slack.OptionAPIURL(srv.APIURL))
	for user, locale := range map[string]string{"U0ZH": "zh-CN", "U0HANS": "zh-Hans", "U0EN": "en-US", "U0GB": "en-GB",
		"U0TW": "zh-TW", "U0JA": "ja-JP", "U0NONE": ""} {
		srv.SetLocale(user, locale)
	}
	for _, fallback := range []string{"en", "zh"} {
		l := newLocales(api, fallback)
		l.wait = 10 * time.Second // this test is about what is read, not how long it may take
		want := map[string]string{"U0ZH": "zh", "U0HANS": "zh", "U0EN": "en", "U0GB": "en",
			"U0TW": fallback, "U0JA": fallback, "U0NONE": fallback}
		before := srv.UserInfoReads()
		for range 2 {
			for user, lang := range want {
				got, err := l.Language(t.Context(), user)
				if got != lang || err != nil {
					t.Errorf("fallback %s: %s is answered in %q (%v), want %q", fallback, user, got, err, lang)
				}
			}
		}
		if n := srv.UserInfoReads() - before; n != len(want) {
			t.Errorf("fallback %s: %d users.info calls for %d people asking twice, want one each", fallback, n, len(want))
		}

		// A person Slack does not know: the fallback, said once, not asked again at once.
		before = srv.UserInfoReads()
		lang, err := l.Language(t.Context(), "U0GHOST")
		if lang != fallback || err == nil {
			t.Errorf("fallback %s: an unknown person: %q, %v; want the fallback and an error", fallback, lang, err)
		}
		if lang, err := l.Language(t.Context(), "U0GHOST"); lang != fallback || err != nil {
			t.Errorf("fallback %s: an unknown person again: %q, %v; want the fallback, the error said once", fallback, lang, err)
		}
		if n := srv.UserInfoReads() - before; n != 1 {
			t.Errorf("fallback %s: %d users.info calls for a failing lookup asked twice, want 1", fallback, n)
		}
	}

	// Slack failing (HTTP 500): the fallback, and an error to log.
	srv.FailUserInfo(true)
	l := newLocales(api, "en")
	l.wait = 10 * time.Second
	if lang, err := l.Language(t.Context(), "U0ZH"); lang != "en" || err == nil {
		t.Errorf("users.info failing: %q, %v; want the fallback and an error", lang, err)
	}
}

// clock is a time tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestLocalesWhenSlackHangs: a users.info that hangs delays an answer by
// at most the wait, says so once, and the next lookup after it failed
// reads the locale.
func TestLocalesWhenSlackHangs(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer()
	defer srv.Close()
	srv.SetLocale("U0ZH", "zh-CN")
	srv.DelayUserInfo(time.Hour)
	l := newLocales(slack.New(srv.BotToken, slack.OptionAPIURL(srv.APIURL)), "en")
	c := &clock{t: time.Now()}
	// The lookup's timeout is thirty times the wait: what this catches is
	// an answer that waits for the lookup, not a slow machine.
	l.now, l.wait, l.timeout = c.now, 100*time.Millisecond, 3*time.Second

	start := time.Now()
	lang, err := l.Language(t.Context(), "U0ZH")
	if took := time.Since(start); lang != "en" || !errors.Is(err, errLocaleSlow) || took >= l.timeout {
		t.Errorf("a hung users.info: %q, %v after %v; want the fallback and errLocaleSlow within about 100ms", lang, err, took)
	}
	lang, err = l.Language(t.Context(), "U0ZH")
	if lang != "en" || err != nil {
		t.Errorf("asked again while it hangs: %q, %v; want the fallback, said once", lang, err)
	}
	// The lookup gives up at its timeout; that is not said again.
	waitFor(t, func() bool { return lookupDone(l, "U0ZH") })
	if lang, err = l.Language(t.Context(), "U0ZH"); lang != "en" || err != nil {
		t.Errorf("after the hung lookup timed out: %q, %v; want the fallback, nothing more to say", lang, err)
	}
	if n := srv.UserInfoReads(); n != 1 {
		t.Errorf("%d users.info calls, want 1", n)
	}
	// Slack is well again; the failure is kept a minute, then read anew.
	srv.DelayUserInfo(0)
	c.add(l.failTTL + time.Second)
	l.wait = 10 * time.Second
	if lang, err = l.Language(t.Context(), "U0ZH"); lang != "zh" || err != nil {
		t.Errorf("a minute later: %q, %v; want zh", lang, err)
	}
}

// lookupDone reports whether user's lookup has ended.
func lookupDone(l *locales, user string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.people[user]
	return e != nil && isDone(e)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stubSlack answers users.info from a map, after release is closed if it
// is set, and counts the calls.
type stubSlack struct {
	locales map[string]string
	release chan struct{}
	calls   atomic.Int32
	asked   chan string // each call's user, if set
}

func (s *stubSlack) GetUserInfoContext(ctx context.Context, user string, options ...slack.GetUserInfoOption) (*slack.User, error) {
	s.calls.Add(1)
	if s.asked != nil {
		s.asked <- user
	}
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	locale, ok := s.locales[user]
	if !ok {
		return nil, errors.New("user_not_found")
	}
	return &slack.User{ID: user, Locale: locale}, nil
}

// TestLocalesOneLookupPerPerson: many answers to one person while their
// locale is read make one users.info call; each waits at most the wait and
// the slowness is said once; then the person's language is known.
func TestLocalesOneLookupPerPerson(t *testing.T) {
	t.Parallel()
	stub := &stubSlack{locales: map[string]string{"U0ZH": "zh-CN"}, release: make(chan struct{})}
	l := newLocales(stub, "en")
	l.wait = 50 * time.Millisecond
	var wg sync.WaitGroup
	var slow atomic.Int32
	for range 20 {
		wg.Go(func() {
			start := time.Now()
			lang, err := l.Language(t.Context(), "U0ZH")
			if took := time.Since(start); lang != "en" || took > 30*time.Second { // the lookup is held until the test releases it
				t.Errorf("while the lookup runs: %q after %v; want the fallback within the wait", lang, took)
			}
			if errors.Is(err, errLocaleSlow) {
				slow.Add(1)
			} else if err != nil {
				t.Errorf("while the lookup runs: %v", err)
			}
		})
	}
	wg.Wait()
	waitFor(t, func() bool { return stub.calls.Load() >= 1 }) // the lookup may start after its callers gave up
	if n := stub.calls.Load(); n != 1 {
		t.Errorf("%d users.info calls for 20 answers to one person, want 1", n)
	}
	if n := slow.Load(); n != 1 {
		t.Errorf("the slow lookup was said %d times, want once", n)
	}
	close(stub.release)
	waitFor(t, func() bool { return lookupDone(l, "U0ZH") })
	if lang, err := l.Language(t.Context(), "U0ZH"); lang != "zh" || err != nil {
		t.Errorf("after the lookup: %q, %v; want zh", lang, err)
	}
}

// TestLocalesKeptForHours: a person's language is read again after the
// TTL, and the cache keeps at most max people.
func TestLocalesKeptForHours(t *testing.T) {
	t.Parallel()
	stub := &stubSlack{locales: map[string]string{"U1": "zh-CN", "U2": "en-US", "U3": "zh-CN", "U4": "en-US", "U5": "zh-CN"}}
	l := newLocales(stub, "en")
	c := &clock{t: time.Now()}
	l.now, l.wait, l.max = c.now, 10*time.Second, 3
	ask := func(user, want string) {
		t.Helper()
		if lang, err := l.Language(t.Context(), user); lang != want || err != nil {
			t.Fatalf("%s: %q, %v; want %q", user, lang, err, want)
		}
	}
	ask("U1", "zh")
	c.add(l.ttl - time.Minute)
	ask("U1", "zh")
	if n := stub.calls.Load(); n != 1 {
		t.Errorf("%d calls within the TTL, want 1", n)
	}
	c.add(2 * time.Minute)
	ask("U1", "zh")
	if n := stub.calls.Load(); n != 2 {
		t.Errorf("%d calls after the TTL, want 2", n)
	}
	for _, u := range []string{"U2", "U3", "U4", "U5"} {
		ask(u, map[string]string{"U2": "en", "U3": "zh", "U4": "en", "U5": "zh"}[u])
	}
	l.mu.Lock()
	kept, listed := len(l.people), l.order.Len()
	l.mu.Unlock()
	if kept != 3 || listed != 3 {
		t.Errorf("%d people kept, %d listed; want max 3", kept, listed)
	}
	before := stub.calls.Load()
	ask("U5", "zh") // kept
	ask("U1", "zh") // dropped: the oldest
	if n := stub.calls.Load() - before; n != 1 {
		t.Errorf("%d calls for a kept and a dropped person, want 1", n)
	}
}

// TestLocalesBoundedLookups: with maxInFlight lookups running, another
// person is answered in the fallback language at once, with no call.
func TestLocalesBoundedLookups(t *testing.T) {
	t.Parallel()
	stub := &stubSlack{locales: map[string]string{"U1": "zh-CN", "U2": "zh-CN", "U3": "zh-CN"}, release: make(chan struct{})}
	defer close(stub.release)
	l := newLocales(stub, "en")
	l.wait, l.maxInFlight = time.Millisecond, 2
	for _, u := range []string{"U1", "U2"} {
		if _, err := l.Language(t.Context(), u); !errors.Is(err, errLocaleSlow) {
			t.Errorf("%s: %v, want errLocaleSlow", u, err)
		}
	}
	waitFor(t, func() bool { return stub.calls.Load() == 2 }) // both lookups are running
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	start := time.Now()
	if lang, err := l.Language(ctx, "U3"); lang != "en" || err != nil || time.Since(start) > time.Second {
		t.Errorf("a third person with two lookups running: %q, %v after %v", lang, err, time.Since(start))
	}
	l.mu.Lock()
	_, started := l.people["U3"]
	l.mu.Unlock()
	if started || stub.calls.Load() != 2 {
		t.Errorf("a third lookup started beside two: %v, %d calls", started, stub.calls.Load())
	}
}

// TestLocalesCallerGivesUp: a caller whose context ends is answered at
// once, and the lookup goes on for the next.
func TestLocalesCallerGivesUp(t *testing.T) {
	t.Parallel()
	stub := &stubSlack{locales: map[string]string{"U1": "zh-CN"}, release: make(chan struct{})}
	l := newLocales(stub, "en")
	l.wait = time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if lang, err := l.Language(ctx, "U1"); lang != "en" || !errors.Is(err, errLocaleSlow) {
		t.Errorf("a caller that gave up: %q, %v", lang, err)
	}
	close(stub.release)
	waitFor(t, func() bool { return lookupDone(l, "U1") })
	if lang, err := l.Language(t.Context(), "U1"); lang != "zh" || err != nil {
		t.Errorf("the next caller: %q, %v; want zh", lang, err)
	}
}
