package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Envelope is one request the fake sent to the bot over Socket Mode, with the
// bot's ack and what the bot posted to the envelope's response URL.
type Envelope struct {
	ID          string
	Type        string // "slash_commands", "interactive" or "events_api"
	SentAt      time.Time
	ResponseURL string // empty for events

	payload any     // kept for a redelivery
	socket  *socket // the socket its first try went to
	mu      sync.Mutex
	acks    []Ack
	acked   chan struct{}
	posts   []Post
	changed chan struct{} // closed and replaced on every ack and post
}

// Ack is the bot's acknowledgement of an envelope.
type Ack struct {
	At      time.Time
	Payload json.RawMessage // for a slash command, the immediate reply
}

// Message returns the ack payload as a message; zero if it has none.
func (a Ack) Message() Message {
	var m Message
	_ = json.Unmarshal(a.Payload, &m)
	return m
}

// Post is one message the bot posted to a response URL.
type Post struct {
	At      time.Time
	Status  int // what the fake answered
	Message Message
}

// Command is a slash command as a person types it.
type Command struct {
	UserID    string
	ChannelID string // default C0FAKECHAN
	Command   string // default /tempreport
	Text      string
}

// SendCommand delivers a slash command to the bot, waiting for a socket if
// none is open.
func (s *Server) SendCommand(ctx context.Context, cmd Command) (*Envelope, error) {
	envs, err := s.SendCommands(ctx, []Command{cmd})
	if err != nil {
		return nil, err
	}
	return envs[0], nil
}

// SendCommands delivers many slash commands at once: it encodes them all,
// then writes them back to back on the socket, as a burst arrives from
// Slack. Each envelope's SentAt is the moment its own frame goes out.
func (s *Server) SendCommands(ctx context.Context, cmds []Command) ([]*Envelope, error) {
	envs := make([]*Envelope, len(cmds))
	frames := make([][]byte, len(cmds))
	for i, cmd := range cmds {
		if cmd.Command == "" {
			cmd.Command = "/tempreport"
		}
		if cmd.ChannelID == "" {
			cmd.ChannelID = "C0FAKECHAN"
		}
		e := s.newEnvelope("slash_commands")
		payload := map[string]any{
			"token": "deprecated-verification-token", "team_id": s.TeamID, "team_domain": "fake",
			"channel_id": cmd.ChannelID, "channel_name": "hr", "user_id": cmd.UserID, "user_name": "someone",
			"command": cmd.Command, "text": cmd.Text, "api_app_id": "A0FAKEAPP",
			"is_enterprise_install": "false", // Slack sends a string here
			"response_url":          e.ResponseURL, "trigger_id": "1.2.3",
		}
		frame, err := e.frame(payload)
		if err != nil {
			return nil, err
		}
		envs[i], frames[i] = e, frame
	}
	// Frames for one socket go out back to back; with spreading, each
	// envelope goes to the next socket in turn.
	for i := 0; i < len(frames); {
		c, err := s.pick(ctx, nil)
		if err != nil {
			return nil, err
		}
		n := 1
		if !s.spreading() {
			n = len(frames) - i
		}
		k := i
		for _, e := range envs[i : i+n] {
			e.socket = c
		}
		if err := c.writeFrames(frames[i:i+n], func() { envs[k].stampSent(); k++ }); err != nil {
			return envs, err
		}
		i += n
	}
	return envs, nil
}

func (s *Server) spreading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spread
}

// Click is a press of a Block Kit button in a message the bot posted.
type Click struct {
	UserID    string
	ChannelID string // default C0FAKECHAN
	ActionID  string
	BlockID   string
	Value     string
}

// SendClick delivers a block_actions interaction to the bot. Its
// trigger_id ([Envelope.TriggerID]) is fresh: views.open takes it once.
func (s *Server) SendClick(ctx context.Context, c Click) (*Envelope, error) {
	if c.ChannelID == "" {
		c.ChannelID = "C0FAKECHAN"
	}
	e := s.newEnvelope("interactive")
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": s.TeamID, "domain": "fake"},
		"user":         map[string]any{"id": c.UserID, "username": "someone", "team_id": s.TeamID},
		"api_app_id":   "A0FAKEAPP",
		"token":        "deprecated-verification-token",
		"container":    map[string]any{"type": "message", "message_ts": "1.000001", "channel_id": c.ChannelID, "is_ephemeral": true},
		"trigger_id":   s.mintTrigger(c.UserID), // fresh: views.open takes it once
		"channel":      map[string]any{"id": c.ChannelID, "name": "hr"},
		"response_url": e.ResponseURL,
		"actions": []map[string]any{{
			"action_id": c.ActionID, "block_id": c.BlockID, "value": c.Value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "Get a fresh link"}, "action_ts": "1.2",
		}},
	}
	return e, s.send(ctx, e, payload)
}

// Shortcut is a message shortcut used on a message in a channel.
type Shortcut struct {
	UserID      string
	ChannelID   string // default C0FAKECHAN
	CallbackID  string // default tempreport_from_message
	Text        string // the message's text
	Blocks      []any  // the message's blocks, if any
	Attachments []any  // the message's legacy attachments, if any
	ThreadTS    string // the thread the message is in, if any
}

// SendShortcut delivers a message_action interaction to the bot. Its
// trigger_id ([Envelope.TriggerID]) is fresh: views.open takes it once.
func (s *Server) SendShortcut(ctx context.Context, sc Shortcut) (*Envelope, error) {
	if sc.ChannelID == "" {
		sc.ChannelID = "C0FAKECHAN"
	}
	if sc.CallbackID == "" {
		sc.CallbackID = "tempreport_from_message"
	}
	e := s.newEnvelope("interactive")
	message := map[string]any{"type": "message", "user": "U0POSTER", "ts": "1700000000.000100", "text": sc.Text}
	if sc.Blocks != nil {
		message["blocks"] = sc.Blocks
	}
	if sc.Attachments != nil {
		message["attachments"] = sc.Attachments
	}
	if sc.ThreadTS != "" {
		message["thread_ts"] = sc.ThreadTS
	}
	payload := map[string]any{
		"type":                  "message_action",
		"callback_id":           sc.CallbackID,
		"team":                  map[string]any{"id": s.TeamID, "domain": "fake"},
		"user":                  map[string]any{"id": sc.UserID, "username": "someone", "team_id": s.TeamID},
		"channel":               map[string]any{"id": sc.ChannelID, "name": "hr"},
		"api_app_id":            "A0FAKEAPP",
		"token":                 "deprecated-verification-token",
		"trigger_id":            s.mintTrigger(sc.UserID), // fresh: views.open takes it once
		"message_ts":            "1700000000.000100",
		"message":               message,
		"response_url":          e.ResponseURL,
		"is_enterprise_install": false,
	}
	return e, s.send(ctx, e, payload)
}

// SendEvent delivers an Events API event (an app_mention) to the bot.
func (s *Server) SendEvent(ctx context.Context) (*Envelope, error) {
	e := s.newEnvelope("events_api")
	e.ResponseURL = ""
	payload := map[string]any{
		"token": "x", "team_id": s.TeamID, "api_app_id": "A0FAKEAPP", "type": "event_callback",
		"event_id": "Ev0FAKE", "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "app_mention", "user": "U0SOMEONE", "text": "<@U0FAKEBOT> hi", "ts": "1.1", "channel": "C0FAKECHAN"},
	}
	return e, s.send(ctx, e, payload)
}

// SendRaw delivers an envelope with an arbitrary payload, to test what the
// bot does with payloads it cannot read.
func (s *Server) SendRaw(ctx context.Context, typ string, payload json.RawMessage) (*Envelope, error) {
	e := s.newEnvelope(typ)
	return e, s.send(ctx, e, payload)
}

func (s *Server) newEnvelope(typ string) *Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("env-%06d-%s", s.nextID, randomHex(4))
	e := &Envelope{ID: id, Type: typ, ResponseURL: s.srv.URL + "/response/" + id,
		acked: make(chan struct{}), changed: make(chan struct{})}
	s.envelopes[id] = e
	return e
}

func (s *Server) send(ctx context.Context, e *Envelope, payload any) error {
	frame, err := e.frame(payload)
	if err != nil {
		return err
	}
	c, err := s.pick(ctx, nil)
	if err != nil {
		return err
	}
	e.socket = c
	return c.writeFrames([][]byte{frame}, e.stampSent)
}

// Redeliver sends an envelope again, as Slack does when it thinks the ack
// was lost: the same envelope_id and payload, with retry_attempt 1. With
// [Server.SpreadEnvelopes], it goes to another socket than the first try.
func (s *Server) Redeliver(ctx context.Context, e *Envelope) error {
	frame, err := json.Marshal(map[string]any{
		"envelope_id": e.ID, "type": e.Type, "payload": e.payload,
		"accepts_response_payload": e.Type == "slash_commands", "retry_attempt": 1, "retry_reason": "timeout",
	})
	if err != nil {
		return err
	}
	c, err := s.pick(ctx, e.socket)
	if err != nil {
		return err
	}
	return c.writeFrames([][]byte{frame}, nil)
}

// frame is the envelope as Slack first writes it on the socket.
func (e *Envelope) frame(payload any) ([]byte, error) {
	e.payload = payload
	return json.Marshal(map[string]any{
		"envelope_id": e.ID, "type": e.Type, "payload": payload,
		"accepts_response_payload": e.Type == "slash_commands", "retry_attempt": 0, "retry_reason": "",
	})
}

func (e *Envelope) stampSent() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.SentAt = time.Now()
}

func (e *Envelope) recordAck(payload json.RawMessage) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.acks = append(e.acks, Ack{At: time.Now(), Payload: payload})
	if len(e.acks) == 1 {
		close(e.acked)
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// WaitAck waits for the bot's first ack.
func (e *Envelope) WaitAck(ctx context.Context) (Ack, error) {
	select {
	case <-e.acked:
	case <-ctx.Done():
		return Ack{}, fmt.Errorf("envelope %s not acked: %w", e.ID, ctx.Err())
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.acks[0], nil
}

// WaitAcks waits until the bot has acked n times and returns the acks.
func (e *Envelope) WaitAcks(ctx context.Context, n int) ([]Ack, error) {
	return waitFor(ctx, e, n, "acks", func() []Ack { return slices.Clone(e.acks) })
}

// waitFor waits until read, called with e.mu held, returns n things.
func waitFor[T any](ctx context.Context, e *Envelope, n int, what string, read func() []T) ([]T, error) {
	for {
		e.mu.Lock()
		got, changed := read(), e.changed
		e.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("envelope %s: %d of %d %s: %w", e.ID, len(got), n, what, ctx.Err())
		}
	}
}

// AcksSoFar returns the bot's acks of this envelope so far.
func (e *Envelope) AcksSoFar() []Ack {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Ack(nil), e.acks...)
}

// AckLatency is the time from sending to the first ack; zero if not acked.
func (e *Envelope) AckLatency() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.acks) == 0 {
		return 0
	}
	return e.acks[0].At.Sub(e.SentAt)
}

// Acks counts the bot's acks of this envelope; Slack expects exactly one.
func (e *Envelope) Acks() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.acks)
}

// Posts returns what the bot has posted to the response URL so far,
// refused posts included.
func (e *Envelope) Posts() []Post {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Post(nil), e.posts...)
}

// WaitAnswer waits for the envelope's one answer: the ack, when its
// payload is a whole message (one with blocks); otherwise the one post to
// its response URL (a command's ack then carries a plain progress note, a
// click's or shortcut's ack nothing).
func (e *Envelope) WaitAnswer(ctx context.Context) (Message, error) {
	ack, err := e.WaitAck(ctx)
	if err != nil {
		return Message{}, err
	}
	if m := ack.Message(); len(m.Blocks) > 0 {
		return m, nil
	}
	posts, err := e.WaitPosts(ctx, 1)
	if err != nil {
		return Message{}, err
	}
	return posts[0].Message, nil
}

// AnsweredOnce reports whether the envelope was acked once and answered
// once: in the ack, or in one post.
func (e *Envelope) AnsweredOnce() bool {
	acks := e.AcksSoFar()
	if len(acks) != 1 {
		return false
	}
	posts := len(e.Posts())
	if len(acks[0].Message().Blocks) > 0 {
		return posts == 0
	}
	return posts == 1
}

// WaitPosts waits until the response URL has accepted n posts and returns
// the accepted ones.
func (e *Envelope) WaitPosts(ctx context.Context, n int) ([]Post, error) {
	return e.waitPosts(ctx, n, true)
}

// WaitTries waits until the bot has tried n posts to the response URL,
// refused ones included, and returns them all.
func (e *Envelope) WaitTries(ctx context.Context, n int) ([]Post, error) {
	return e.waitPosts(ctx, n, false)
}

func (e *Envelope) waitPosts(ctx context.Context, n int, acceptedOnly bool) ([]Post, error) {
	return waitFor(ctx, e, n, "posts", func() []Post {
		var ok []Post
		for _, p := range e.posts {
			if p.Status == http.StatusOK || !acceptedOnly {
				ok = append(ok, p)
			}
		}
		return ok
	})
}

// maxPostsPerURL is Slack's budget for one response URL.
const maxPostsPerURL = 5

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	e := s.envelopes[r.PathValue("id")]
	status := http.StatusOK
	if len(s.postFaults) > 0 {
		status, s.postFaults = s.postFaults[0], s.postFaults[1:]
	}
	s.mu.Unlock()
	if e == nil || e.ResponseURL == "" {
		http.Error(w, "invalid_url", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var m Message
	if err != nil || json.Unmarshal(body, &m) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	accepted := 0
	for _, p := range e.posts {
		if p.Status == http.StatusOK {
			accepted++
		}
	}
	if status == http.StatusOK && accepted >= maxPostsPerURL {
		status = http.StatusNotFound // Slack: used_url
	}
	if status == http.StatusOK && !m.validBlocks() {
		status = http.StatusBadRequest // Slack: invalid_blocks
	}
	e.posts = append(e.posts, Post{At: time.Now(), Status: status, Message: m})
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()
	if status != http.StatusOK {
		http.Error(w, "fake failure", status)
		return
	}
	writeJSON(w, map[string]any{"ok": true})
}

// Crowd makes n people (user IDs U00000000, U00000001, …) who each type the
// same text: a burst for [Server.SendCommands].
func Crowd(n int, text string) (users []string, cmds []Command) {
	users = make([]string, n)
	cmds = make([]Command, n)
	for i := range n {
		users[i] = fmt.Sprintf("U%08d", i)
		cmds[i] = Command{UserID: users[i], Text: text}
	}
	return users, cmds
}
