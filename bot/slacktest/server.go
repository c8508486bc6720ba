// Package slacktest is a fake Slack for tests and the demo: a real HTTP
// server on 127.0.0.1 that speaks Socket Mode over a real websocket (hello,
// pings, envelopes, acks, disconnect), serves the few Web API methods the bot
// calls, and records what the bot posts to response URLs.
package slacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Server is a running fake Slack workspace with one app installed. Its
// methods are safe for concurrent use.
type Server struct {
	APIURL   string // Web API base for slack.OptionAPIURL, ending in "/"
	AppToken string // xapp- token apps.connections.open accepts
	BotToken string // xoxb- token the Web API methods accept
	TeamID   string

	srv      *httptest.Server
	upgrader websocket.Upgrader
	done     chan struct{}

	mu          sync.Mutex
	conns       []*socket     // open sockets, oldest first: the bot's replicas
	connChanged chan struct{} // closed and replaced whenever conns changes
	spread      bool          // envelopes go round the open sockets, not to the newest
	turn        int           // the socket the next spread envelope goes to
	opens       int
	openFault   openFault
	openFails   int // how many more opens fail with openFault; negative: all
	groups      map[string][]string
	groupsFail  bool
	groupReads  int
	groupRead   chan struct{} // closed and replaced on every usergroups.users.list call
	postFaults  []int
	nextID      int
	envelopes   map[string]*Envelope

	locales       map[string]string // users.info: each user's locale
	userInfoFail  bool
	userInfoDelay time.Duration
	userInfoReads int

	api *webAPI // the surfaces' methods: chat.*, views.*
}

type openFault struct {
	status int
	err    string
}

// pingInterval is how often the fake pings each socket, well inside
// slack-go's 30s limit.
const pingInterval = 5 * time.Second

// NewServer starts a fake Slack on 127.0.0.1. Close it when done.
func NewServer() *Server {
	s := &Server{
		AppToken:    "xapp-1-A0FAKEAPP-" + randomHex(16),
		BotToken:    "xoxb-0000-" + randomHex(16),
		TeamID:      "T0FAKETEAM",
		done:        make(chan struct{}),
		connChanged: make(chan struct{}),
		groupRead:   make(chan struct{}),
		groups:      map[string][]string{},
		envelopes:   map[string]*Envelope{},
		// slack-go dials with Origin https://api.slack.com, which the default
		// check would refuse.
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/apps.connections.open", s.serveConnectionsOpen)
	mux.HandleFunc("POST /api/auth.test", s.serveAuthTest)
	mux.HandleFunc("POST /api/usergroups.users.list", s.serveUserGroupMembers)
	mux.HandleFunc("GET /link/", s.serveSocket)
	mux.HandleFunc("POST /response/{id}", s.serveResponse)
	mux.HandleFunc("POST /api/users.info", s.serveUserInfo)
	s.routeWebAPI(mux)
	s.srv = httptest.NewServer(mux)
	s.APIURL = s.srv.URL + "/api/"
	return s
}

// Close drops every socket and stops the server.
func (s *Server) Close() {
	close(s.done)
	s.mu.Lock()
	for _, c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SetUserGroup makes a user group with the given members.
func (s *Server) SetUserGroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = members
}

// FailUserGroups makes usergroups.users.list fail (true) or work again.
func (s *Server) FailUserGroups(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groupsFail = fail
}

// WaitUserGroupReads waits until usergroups.users.list has been called n
// times in all. The bot reads groups one after another, so once read n+1
// has begun, read n's answer has been applied.
func (s *Server) WaitUserGroupReads(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		reads, changed := s.groupReads, s.groupRead
		s.mu.Unlock()
		if reads >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d user group reads: %w", reads, n, ctx.Err())
		case <-s.done:
			return ErrClosed
		}
	}
}

// UserGroupReads counts calls of usergroups.users.list.
func (s *Server) UserGroupReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupReads
}

// FailConnectionsOpen makes the next n calls of apps.connections.open answer
// with the HTTP status (when errCode is empty) or with ok:false and errCode,
// e.g. "invalid_auth". n < 0 means every call.
func (s *Server) FailConnectionsOpen(n, status int, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openFault, s.openFails = openFault{status, errCode}, n
}

// ConnectionsOpened counts calls of apps.connections.open, failed ones too.
func (s *Server) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// FailResponsePosts makes the next posts to any response URL answer with
// these HTTP statuses, one post each.
func (s *Server) FailResponsePosts(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.postFaults = append(s.postFaults, statuses...)
}

func (s *Server) serveConnectionsOpen(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.opens++
	var fault openFault
	if s.openFails != 0 {
		fault = s.openFault
		s.openFails--
	}
	ticket := s.opens
	s.mu.Unlock()
	switch {
	case r.Header.Get("Authorization") != "Bearer "+s.AppToken:
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
	case fault.err != "":
		writeJSON(w, map[string]any{"ok": false, "error": fault.err})
	case fault.status != 0:
		http.Error(w, "fake failure", fault.status)
	default:
		url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + fmt.Sprintf("/link/?ticket=%d-%s", ticket, randomHex(8))
		writeJSON(w, map[string]any{"ok": true, "url": url})
	}
}

// botAuthorized accepts the bot token the two ways slack-go sends it.
func (s *Server) botAuthorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+s.BotToken || r.FormValue("token") == s.BotToken
}

func (s *Server) serveAuthTest(w http.ResponseWriter, r *http.Request) {
	if !s.botAuthorized(r) {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "url": "https://fake.slack.test/", "team": "Fake Team",
		"user": "tempreport", "team_id": s.TeamID, "user_id": "U0FAKEBOT", "bot_id": "B0FAKEBOT"})
}

func (s *Server) serveUserGroupMembers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	members, ok := s.groups[r.FormValue("usergroup")]
	fail := s.groupsFail
	s.groupReads++
	close(s.groupRead)
	s.groupRead = make(chan struct{})
	s.mu.Unlock()
	switch {
	case !s.botAuthorized(r):
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
	case fail:
		http.Error(w, "fake failure", http.StatusInternalServerError)
	case !ok:
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
	default:
		writeJSON(w, map[string]any{"ok": true, "users": members})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SetLocale makes a user known to users.info, with a Slack locale such as
// "zh-CN" or "en-US" ("" for a user whose locale Slack does not say).
// users.info answers user_not_found for any other user.
func (s *Server) SetLocale(user, locale string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locales == nil {
		s.locales = map[string]string{}
	}
	s.locales[user] = locale
}

// FailUserInfo makes users.info answer HTTP 500 (true) or work again.
func (s *Server) FailUserInfo(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userInfoFail = fail
}

// DelayUserInfo makes users.info wait d before it answers (or until the
// caller gives up, or the server closes): a slow or hung Slack.
func (s *Server) DelayUserInfo(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userInfoDelay = d
}

// UserInfoReads counts calls of users.info.
func (s *Server) UserInfoReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userInfoReads
}

// serveUserInfo is users.info: the user's locale only when the request
// asks for it with include_locale=true, as Slack does.
func (s *Server) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	user := r.FormValue("user")
	s.mu.Lock()
	s.userInfoReads++
	locale, known := s.locales[user]
	fail, delay := s.userInfoFail, s.userInfoDelay
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	switch {
	case !s.botAuthorized(r):
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
	case fail:
		http.Error(w, "fake failure", http.StatusInternalServerError)
	case !known:
		writeJSON(w, map[string]any{"ok": false, "error": "user_not_found"})
	default:
		u := map[string]any{"id": user, "team_id": s.TeamID, "name": strings.ToLower(user), "is_bot": false}
		if r.FormValue("include_locale") == "true" {
			u["locale"] = locale
		}
		writeJSON(w, map[string]any{"ok": true, "user": u})
	}
}

// ErrClosed is returned by calls that wait on a closed server.
var ErrClosed = errors.New("slacktest: server closed")
