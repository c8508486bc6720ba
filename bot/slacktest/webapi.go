package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// The Web API methods the bot's surfaces call: chat.postEphemeral,
// chat.postMessage, views.open, views.update and views.publish. Each takes
// the bot token and a JSON body (or a form, as slack-go sends chat.*), and
// answers as Slack does: {"ok":true,…} or {"ok":false,"error":"…"}, with
// HTTP 200 either way. Every call is recorded before it is answered.

// APICall is one call of a Web API method, as the fake received and
// answered it.
type APICall struct {
	Method string // e.g. "views.open"
	At     time.Time
	// Body is the decoded request: a JSON object, or a form with its JSON
	// fields (blocks, attachments, view, metadata) decoded. Shared with
	// every reader: do not modify it.
	Body     map[string]any
	Raw      []byte          // the request body as sent
	Error    string          // the error the fake answered, "" when ok
	Response json.RawMessage // the fake's whole answer
}

// Message decodes the call's body as a message (chat.postMessage,
// chat.postEphemeral).
func (c APICall) Message() Message {
	var m Message
	if b, err := json.Marshal(c.Body); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// ViewID is the id of the view the call answered with, "" if none.
func (c APICall) ViewID() string {
	var r struct {
		View struct {
			ID string `json:"id"`
		} `json:"view"`
	}
	_ = json.Unmarshal(c.Response, &r)
	return r.View.ID
}

// webAPI is the state of the surfaces' methods, under its own lock.
type webAPI struct {
	mu          sync.Mutex
	calls       []APICall
	changed     chan struct{} // closed and replaced on every call and view change
	faults      map[string]methodFault
	triggers    map[string]*trigger
	views       map[string]*view
	homes       map[string]string // user → their home view's id
	lastOpened  map[string]string // user → the view views.open last opened for them
	submissions map[string]string // envelope id → the view it submits, until its first ack
	serial      int               // ids, hashes, triggers and timestamps
}

type methodFault struct {
	err  string
	left int // calls still to fail; negative: every call
}

// trigger is a trigger_id the fake sent; views.open takes each once.
type trigger struct {
	user    string
	used    bool
	expired bool
	viewID  string // the view views.open opened with it
}

// view is a modal or a Home tab the bot opened or published.
type view struct {
	id, user, typ, hash string
	state               json.RawMessage // the view as Slack last answered it
}

// Limits Slack puts on views.
const (
	maxViewBlocks     = 100
	maxMessageBlocks  = 50
	maxViewTitle      = 24 // characters, as are submit and close
	maxPrivateMeta    = 3000
	maxCallbackID     = 255
	maxAPIRequestBody = 4 << 20
)

// routeWebAPI serves the surfaces' methods on mux.
func (s *Server) routeWebAPI(mux *http.ServeMux) {
	s.api = &webAPI{
		changed:     make(chan struct{}),
		faults:      map[string]methodFault{},
		triggers:    map[string]*trigger{},
		views:       map[string]*view{},
		homes:       map[string]string{},
		lastOpened:  map[string]string{},
		submissions: map[string]string{},
	}
	for method, answer := range map[string]func(map[string]any) (map[string]any, string){
		"chat.postEphemeral": s.postEphemeral,
		"chat.postMessage":   s.postMessage,
		"views.open":         s.viewsOpen,
		"views.update":       s.viewsUpdate,
		"views.publish":      s.viewsPublish,
	} {
		mux.HandleFunc("POST /api/"+method, s.webMethod(method, answer))
	}
}

// webMethod serves one method: answer, called with s.api.mu held, gives
// the answer's fields or an error code (with extra fields, if any).
func (s *Server) webMethod(method string, answer func(map[string]any) (map[string]any, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, readErr := io.ReadAll(io.LimitReader(r.Body, maxAPIRequestBody))
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body, decodeErr := decodeBody(ct, raw)
		record, _ := decodeBody(ct, raw) // a copy of its own: answer may keep parts of body
		authorized := r.Header.Get("Authorization") == "Bearer "+s.BotToken || (ct != "application/json" && body["token"] == s.BotToken)

		a := s.api
		a.mu.Lock()
		var fields map[string]any
		var code string
		switch {
		case !authorized:
			code = "invalid_auth"
		case readErr != nil:
			code = "request_timeout"
		case decodeErr != "":
			code = decodeErr
		case a.fault(method) != "":
			code = a.fault(method)
			a.faults[method] = a.faults[method].spend()
		default:
			fields, code = answer(body)
		}
		if fields == nil {
			fields = map[string]any{}
		}
		fields["ok"] = code == ""
		if code != "" {
			fields["error"] = code
		}
		resp, _ := json.Marshal(fields)
		a.calls = append(a.calls, APICall{Method: method, At: time.Now(), Body: record, Raw: raw, Error: code, Response: resp})
		a.wake()
		a.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		if code == "ratelimited" {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
		_, _ = w.Write(resp)
	}
}

// decodeBody reads a JSON object, or a form whose JSON fields it decodes;
// on failure it gives Slack's error code.
func decodeBody(contentType string, raw []byte) (map[string]any, string) {
	body := map[string]any{}
	if contentType == "application/json" {
		if json.Unmarshal(raw, &body) != nil || body == nil {
			return map[string]any{}, "invalid_json"
		}
		return body, ""
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return body, "invalid_form_data"
	}
	for k, vs := range form {
		body[k] = vs[0]
		switch k {
		case "blocks", "attachments", "view", "metadata":
			var v any
			if json.Unmarshal([]byte(vs[0]), &v) == nil {
				body[k] = v
			}
		}
	}
	return body, ""
}

func (a *webAPI) fault(method string) string {
	if f := a.faults[method]; f.left != 0 {
		return f.err
	}
	return ""
}

func (f methodFault) spend() methodFault {
	if f.left > 0 {
		f.left--
	}
	return f
}

// wake tells waiters something changed; a.mu is held.
func (a *webAPI) wake() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// next numbers ids, hashes, triggers and timestamps; a.mu is held.
func (a *webAPI) next() int {
	a.serial++
	return a.serial
}

// ts is a fresh message timestamp; a.mu is held.
func (a *webAPI) ts() string {
	n := a.next()
	return fmt.Sprintf("%d.%06d", 1700000000+n/1000000, n%1000000)
}

// FailMethod makes every call of a Web API method the fake serves for
// the surfaces ("chat.postEphemeral", "views.publish", …) answer
// ok:false with errCode, e.g. "missing_scope" or "not_enabled", until
// [Server.ClearFailure]. errCode "ratelimited" answers HTTP 429 with
// Retry-After: 1, as Slack does.
func (s *Server) FailMethod(method, errCode string) {
	s.FailMethodTimes(method, errCode, -1)
}

// FailMethodTimes is [Server.FailMethod] for the next n calls only; n < 0
// means every call.
func (s *Server) FailMethodTimes(method, errCode string, n int) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	s.api.faults[method] = methodFault{err: errCode, left: n}
}

// ClearFailure makes a method that [Server.FailMethod] broke work again.
func (s *Server) ClearFailure(method string) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	delete(s.api.faults, method)
}

// Calls returns the calls of a method so far, oldest first, failed ones
// too; method "" means every method.
func (s *Server) Calls(method string) []APICall {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	return s.api.callsOf(method)
}

func (a *webAPI) callsOf(method string) []APICall {
	if method == "" {
		return slices.Clone(a.calls)
	}
	var got []APICall
	for _, c := range a.calls {
		if c.Method == method {
			got = append(got, c)
		}
	}
	return got
}

// WaitCalls waits until a method has been called n times, failed calls
// included, and returns the calls; method "" means every method.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]APICall, error) {
	for {
		s.api.mu.Lock()
		got, changed := s.api.callsOf(method), s.api.changed
		s.api.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("%d of %d calls of %q: %w", len(got), n, method, ctx.Err())
		case <-s.done:
			return got, ErrClosed
		}
	}
}

// View returns a view's current state as Slack last answered it: the
// bot's view with id, hash, state and the rest filled in.
func (s *Server) View(id string) (json.RawMessage, bool) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	v, ok := s.api.views[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(v.state), true
}

// HomeView returns the Home tab last published for a user.
func (s *Server) HomeView(user string) (json.RawMessage, bool) {
	s.api.mu.Lock()
	id, ok := s.api.homes[user]
	s.api.mu.Unlock()
	if !ok {
		return nil, false
	}
	return s.View(id)
}

// HomeViewID is the id of the Home tab last published for a user.
func (s *Server) HomeViewID(user string) (string, bool) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	id, ok := s.api.homes[user]
	return id, ok
}

// LastOpenedViewID is the id of the view views.open last opened for a
// user: the one whose trigger the user's shortcut or click carried.
func (s *Server) LastOpenedViewID(user string) (string, bool) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	id, ok := s.api.lastOpened[user]
	return id, ok
}

// OpenedViewID is the id of the view views.open opened with a trigger.
func (s *Server) OpenedViewID(triggerID string) (string, bool) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if t := s.api.triggers[triggerID]; t != nil && t.viewID != "" {
		return t.viewID, true
	}
	return "", false
}

// WaitOpenedView waits until views.open has opened a view with a trigger
// and returns the view's id.
func (s *Server) WaitOpenedView(ctx context.Context, triggerID string) (string, error) {
	for {
		s.api.mu.Lock()
		var id string
		if t := s.api.triggers[triggerID]; t != nil {
			id = t.viewID
		}
		changed := s.api.changed
		s.api.mu.Unlock()
		if id != "" {
			return id, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("no view opened with trigger %s: %w", triggerID, ctx.Err())
		case <-s.done:
			return "", ErrClosed
		}
	}
}

// ExpireTrigger makes a trigger the fake sent too old: views.open then
// answers expired_trigger_id, as Slack does 3 s after the click.
func (s *Server) ExpireTrigger(triggerID string) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if t := s.api.triggers[triggerID]; t != nil {
		t.expired = true
	}
}

// mintTrigger is a fresh trigger_id that views.open takes once.
func (s *Server) mintTrigger(user string) string {
	a := s.api
	a.mu.Lock()
	defer a.mu.Unlock()
	id := fmt.Sprintf("%d.%d.%s", 1700000000+a.next(), 4242, randomHex(16))
	a.triggers[id] = &trigger{user: user}
	return id
}

func (s *Server) postEphemeral(body map[string]any) (map[string]any, string) {
	switch {
	case str(body, "channel") == "":
		return nil, "channel_not_found"
	case str(body, "user") == "":
		return nil, "user_not_found"
	}
	if code := messageProblem(body); code != "" {
		return nil, code
	}
	return map[string]any{"message_ts": s.api.ts()}, ""
}

func (s *Server) postMessage(body map[string]any) (map[string]any, string) {
	channel := str(body, "channel")
	if channel == "" {
		return nil, "channel_not_found"
	}
	if code := messageProblem(body); code != "" {
		return nil, code
	}
	ts := s.api.ts()
	msg := map[string]any{"type": "message", "user": "U0FAKEBOT", "bot_id": "B0FAKEBOT", "text": str(body, "text"), "ts": ts, "team": s.TeamID}
	for _, k := range []string{"blocks", "attachments", "thread_ts"} {
		if v, ok := body[k]; ok {
			msg[k] = v
		}
	}
	return map[string]any{"channel": channel, "ts": ts, "message": msg}, ""
}

// messageProblem is the error Slack gives a message it refuses, "" if none.
func messageProblem(body map[string]any) string {
	blocks, _ := body["blocks"].([]any)
	if str(body, "text") == "" && len(blocks) == 0 && body["attachments"] == nil {
		return "no_text"
	}
	if _, ok := body["blocks"]; ok {
		var m Message
		b, _ := json.Marshal(map[string]any{"blocks": body["blocks"]})
		if json.Unmarshal(b, &m) != nil || len(m.Blocks) > maxMessageBlocks || !m.validBlocks() {
			return "invalid_blocks"
		}
	}
	return ""
}

func (s *Server) viewsOpen(body map[string]any) (map[string]any, string) {
	a := s.api
	id := str(body, "trigger_id")
	if id == "" {
		return nil, "invalid_arguments"
	}
	v, problems := viewArg(body, "modal")
	if problems != nil {
		return problems, "invalid_arguments"
	}
	t := a.triggers[id]
	switch {
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case t.expired:
		return nil, "expired_trigger_id"
	}
	t.used = true
	vw := &view{id: fmt.Sprintf("V0FAKE%05d", a.next()), user: t.user, typ: "modal"}
	t.viewID = vw.id
	a.views[vw.id] = vw
	a.lastOpened[t.user] = vw.id
	return map[string]any{"view": s.setView(vw, v)}, ""
}

func (s *Server) viewsUpdate(body map[string]any) (map[string]any, string) {
	a := s.api
	vw := a.views[str(body, "view_id")]
	if vw == nil {
		if str(body, "view_id") == "" && str(body, "external_id") == "" {
			return nil, "invalid_arguments"
		}
		return nil, "not_found"
	}
	v, problems := viewArg(body, vw.typ)
	if problems != nil {
		return problems, "invalid_arguments"
	}
	if h := str(body, "hash"); h != "" && h != vw.hash {
		return nil, "hash_conflict"
	}
	return map[string]any{"view": s.setView(vw, v)}, ""
}

func (s *Server) viewsPublish(body map[string]any) (map[string]any, string) {
	a := s.api
	user := str(body, "user_id")
	if user == "" {
		return nil, "invalid_arguments"
	}
	v, problems := viewArg(body, "home")
	if problems != nil {
		return problems, "invalid_arguments"
	}
	vw := a.views[a.homes[user]]
	if vw == nil {
		vw = &view{id: fmt.Sprintf("V0HOME%05d", a.next()), user: user, typ: "home"}
	} else if h := str(body, "hash"); h != "" && h != vw.hash {
		return nil, "hash_conflict"
	}
	a.views[vw.id] = vw
	a.homes[user] = vw.id
	return map[string]any{"view": s.setView(vw, v)}, ""
}

// setView makes v the view's new state, with a new hash and what Slack
// fills in, and returns that state; s.api.mu is held.
func (s *Server) setView(vw *view, v map[string]any) map[string]any {
	vw.hash = fmt.Sprintf("%d.%s", 1700000000+s.api.next(), randomHex(4))
	state := maps.Clone(v)
	defaults := map[string]any{"private_metadata": "", "callback_id": "", "external_id": "",
		"clear_on_close": false, "notify_on_close": false, "previous_view_id": nil}
	for k, d := range defaults {
		if _, ok := state[k]; !ok {
			state[k] = d
		}
	}
	if blocks, ok := state["blocks"].([]any); ok {
		state["blocks"] = withBlockIDs(blocks)
	} else {
		state["blocks"] = []any{}
	}
	root := any(nil)
	if vw.typ == "modal" {
		root = vw.id
	}
	maps.Copy(state, map[string]any{
		"id": vw.id, "type": vw.typ, "hash": vw.hash, "team_id": s.TeamID, "app_id": "A0FAKEAPP",
		"app_installed_team_id": s.TeamID, "bot_id": "B0FAKEBOT", "root_view_id": root,
		"state": map[string]any{"values": map[string]any{}},
	})
	vw.state, _ = json.Marshal(state)
	return state
}

// withBlockIDs gives each block without a block_id one, as Slack does.
func withBlockIDs(blocks []any) []any {
	out := make([]any, len(blocks))
	for i, b := range blocks {
		if m, ok := b.(map[string]any); ok {
			if _, has := m["block_id"]; !has {
				m = maps.Clone(m)
				m["block_id"] = randomHex(3)
			}
			b = m
		}
		out[i] = b
	}
	return out
}

// viewArg is the body's view when Slack would take it as a view of type
// typ; otherwise the answer's response_metadata, in Slack's words.
func viewArg(body map[string]any, typ string) (map[string]any, map[string]any) {
	v, _ := body["view"].(map[string]any)
	if v == nil {
		if s, ok := body["view"].(string); ok { // a view sent as a JSON string
			_ = json.Unmarshal([]byte(s), &v)
		}
	}
	if v == nil {
		return nil, problems("[ERROR] missing required field: view [json-pointer:/view]")
	}
	var errs []string
	if got := str(v, "type"); got != typ {
		errs = append(errs, fmt.Sprintf("[ERROR] must be %q, not %q [json-pointer:/view/type]", typ, got))
	}
	blocks, ok := v["blocks"].([]any)
	switch {
	case !ok:
		errs = append(errs, "[ERROR] missing required field: blocks [json-pointer:/view/blocks]")
	case len(blocks) > maxViewBlocks:
		errs = append(errs, fmt.Sprintf("[ERROR] must be no more than %d items [json-pointer:/view/blocks]", maxViewBlocks))
	}
	ids := map[string]bool{}
	inputs := false
	for i, b := range blocks {
		m, _ := b.(map[string]any)
		if id := str(m, "block_id"); id != "" {
			if ids[id] {
				errs = append(errs, fmt.Sprintf("[ERROR] duplicate block_id %q [json-pointer:/view/blocks/%d/block_id]", id, i))
			}
			ids[id] = true
		}
		inputs = inputs || str(m, "type") == "input"
	}
	if typ == "modal" {
		for _, field := range []string{"title", "submit", "close"} {
			obj, present := v[field]
			if !present {
				if field == "title" || (field == "submit" && inputs) {
					errs = append(errs, fmt.Sprintf("[ERROR] missing required field: %s [json-pointer:/view/%s]", field, field))
				}
				continue
			}
			text, _ := obj.(map[string]any)
			if str(text, "type") != "plain_text" || str(text, "text") == "" || utf8.RuneCountInString(str(text, "text")) > maxViewTitle {
				errs = append(errs, fmt.Sprintf("[ERROR] must be plain_text of 1 to %d characters [json-pointer:/view/%s]", maxViewTitle, field))
			}
		}
	}
	if len(str(v, "private_metadata")) > maxPrivateMeta {
		errs = append(errs, fmt.Sprintf("[ERROR] must be no more than %d characters [json-pointer:/view/private_metadata]", maxPrivateMeta))
	}
	if len(str(v, "callback_id")) > maxCallbackID {
		errs = append(errs, fmt.Sprintf("[ERROR] must be no more than %d characters [json-pointer:/view/callback_id]", maxCallbackID))
	}
	if errs != nil {
		return nil, problems(errs...)
	}
	return v, nil
}

func problems(messages ...string) map[string]any {
	return map[string]any{"response_metadata": map[string]any{"messages": messages}}
}

// str is m[key] when it is a string.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}
