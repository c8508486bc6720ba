package httpmode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/hr-tools/tempreport/bot"
)

// Slack's names for what a payload is, as [bot.Handler.HandleUnreadable]
// takes them.
const (
	typeCommand     = "slash_commands"
	typeInteraction = "interactive"
	typeEvent       = "events_api"
)

// serveRequest answers POST /slack/events. In this order: a body over
// maxBody is refused (413) unread or as soon as reading passes the cap; a
// request whose signature does not hold is refused (401) before anything
// in it is parsed; JSON nested deeper than maxDepth is never decoded; then
// the payload goes to the handler and its ack becomes the response.
func (t *Transport) serveRequest(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > maxBody {
		t.refuseTooLarge(w)
		return
	}
	// Bodies not yet known to be Slack's share a budget: a flood of large
	// unsigned bodies is refused at once (503) instead of filling memory.
	reserve := int64(maxBody)
	if r.ContentLength >= 0 {
		reserve = r.ContentLength
	}
	if !t.unverified.take(reserve) {
		t.refuseBusy(w)
		return
	}
	body, err := readLimited(w, r, reserve)
	received := t.now()
	var why refusal
	if err == nil {
		why = check(t.secret, r.Header, body, received)
	}
	t.unverified.give(reserve)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			t.refuseTooLarge(w)
		}
		return // the client went away or was too slow: no one to answer
	}
	if why != "" {
		t.refuseSignature(w, r, why, received)
		return
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		t.serveEvent(w, r, received, body)
		return
	}
	// Slack signs each request over its timestamp and never sends one
	// signature twice: a second request with it is a replay, which the
	// bot's redelivery memory recognises and does not serve again.
	t.serveForm(w, r, received, body, "sig:"+r.Header.Get("X-Slack-Signature"))
}

// readLimited reads a request's body, at most maxBody bytes, into a buffer of
// the size the request says it has.
func readLimited(w http.ResponseWriter, r *http.Request, size int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(size, maxBody)+1))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody))
	return buf.Bytes(), err
}

// serveEvent takes an Events API request: url_verification is answered
// here; an event_callback goes to the handler, identified by its event_id
// (a retry, with X-Slack-Retry-Num, carries the same one).
func (t *Transport) serveEvent(w http.ResponseWriter, r *http.Request, received time.Time, body []byte) {
	if depth(body) > maxDepth {
		t.deliver(w, r, received, "", func(d bot.Delivery) { t.h.HandleUnreadable(d, typeEvent, ErrTooDeep) })
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		EventID   string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		t.deliver(w, r, received, "", func(d bot.Delivery) { t.h.HandleUnreadable(d, typeEvent, err) })
		return
	}
	switch outer.Type {
	case slackevents.URLVerification:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, outer.Challenge)
		return
	case slackevents.AppRateLimited:
		// Slack's notice that it dropped events for an hour: nothing to
		// answer but 200, and nothing the bot could do but know.
		t.log.Warn("Slack is not sending events: the app passed 30,000 events an hour in one workspace")
		return
	case slackevents.CallbackEvent:
	default:
		err := fmt.Errorf("httpmode: unknown Events API type %q", outer.Type)
		t.deliver(w, r, received, outer.EventID, func(d bot.Delivery) { t.h.HandleUnreadable(d, typeEvent, err) })
		return
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.deliver(w, r, received, outer.EventID, func(d bot.Delivery) { t.h.HandleUnreadable(d, typeEvent, err) })
		return
	}
	t.deliver(w, r, received, outer.EventID, func(d bot.Delivery) { t.h.HandleEvent(d, ev) })
}

// serveForm takes a form: interactivity when it has a payload field,
// otherwise a slash command. Slack never sends either twice: a delivery is
// named by its signature (id), so that a replay is recognised.
func (t *Transport) serveForm(w http.ResponseWriter, r *http.Request, received time.Time, body []byte, id string) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.deliver(w, r, received, id, func(d bot.Delivery) { t.h.HandleUnreadable(d, "", err) })
		return
	}
	if _, ok := form["payload"]; ok {
		payload := form.Get("payload")
		if depth([]byte(payload)) > maxDepth {
			t.deliver(w, r, received, id, func(d bot.Delivery) { t.h.HandleUnreadable(d, typeInteraction, ErrTooDeep) })
			return
		}
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(payload), &cb); err != nil {
			t.deliver(w, r, received, id, func(d bot.Delivery) { t.h.HandleUnreadable(d, typeInteraction, err) })
			return
		}
		t.deliver(w, r, received, id, func(d bot.Delivery) { t.h.HandleInteraction(d, cb) })
		return
	}
	cmd := slashCommand(form)
	t.deliver(w, r, received, id, func(d bot.Delivery) { t.h.HandleCommand(d, cmd) })
}

// slashCommand reads every field slack.SlashCommandParse reads.
func slashCommand(form url.Values) slack.SlashCommand {
	return slack.SlashCommand{
		Token:               form.Get("token"),
		TeamID:              form.Get("team_id"),
		TeamDomain:          form.Get("team_domain"),
		EnterpriseID:        form.Get("enterprise_id"),
		EnterpriseName:      form.Get("enterprise_name"),
		IsEnterpriseInstall: form.Get("is_enterprise_install") == "true",
		ChannelID:           form.Get("channel_id"),
		ChannelName:         form.Get("channel_name"),
		UserID:              form.Get("user_id"),
		UserName:            form.Get("user_name"),
		Command:             form.Get("command"),
		Text:                form.Get("text"),
		ResponseURL:         form.Get("response_url"),
		TriggerID:           form.Get("trigger_id"),
		APIAppID:            form.Get("api_app_id"),
	}
}

// deliver hands one delivery to the handler through handle, then waits for
// its ack at most ackWait and writes it as the response: 200 with the
// ack's JSON, or an empty 200 when the ack is bare or late.
func (t *Transport) deliver(w http.ResponseWriter, r *http.Request, received time.Time, id string, handle func(bot.Delivery)) {
	a := newAck()
	if !t.call(handle, bot.Delivery{ID: id, Received: received, Ack: a}) {
		// Serve has returned: the bot takes nothing more. Slack sends an
		// event again; a command's person sees Slack's error.
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	body, ok := a.wait(r.Context(), t.ackWait)
	if !ok || len(body) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// call runs handle with the handler to itself (the Handler's methods never
// block), and reports false, calling nothing, once Serve has stopped
// handing requests over.
func (t *Transport) call(handle func(bot.Delivery), d bot.Delivery) bool {
	t.handle.Lock()
	defer t.handle.Unlock()
	if t.stopped {
		return false
	}
	handle(d)
	return true
}
