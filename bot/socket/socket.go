// Package socket is the Socket Mode transport of package bot: it dials out
// to Slack over a websocket (no public address needed), hands what arrives
// to the bot and writes the bot's acks. It reads, acks and watches the
// connection; it decides nothing.
package socket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/hr-tools/tempreport/bot"
)

// ErrRefused means Slack refused to open a socket for good: the app-level
// token was refused, or the Web API base answered 404. [Transport.Serve]
// returns it, wrapping slack-go's error.
var ErrRefused = errors.New("socket: Slack refused to open a socket")

// Config is what [New] needs.
type Config struct {
	AppToken   string       // xapp-…, with connections:write
	APIURL     string       // Slack Web API base, ending in "/"
	HTTPClient *http.Client // for apps.connections.open; default http.DefaultClient
	Logger     *slog.Logger // default slog.Default()
}

// Transport is the Socket Mode [bot.Transport]. Create it with [New]; Serve
// runs once.
type Transport struct {
	sm    *socketmode.Client
	log   *slog.Logger
	state atomic.Pointer[state]
	// closeSocket stops the socket Serve opened, and closed says it has
	// stopped: Serve leaves it open, for acks, until Close.
	closeSocket context.CancelFunc
	closed      chan struct{}
}

type state struct {
	ready  bool
	status string
}

// New makes a Socket Mode transport.
func New(cfg Config) (*Transport, error) {
	if !strings.HasPrefix(cfg.AppToken, "xapp-") {
		return nil, errors.New("socket: need an app-level token (xapp-…)")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	opts := []slack.Option{slack.OptionAppLevelToken(cfg.AppToken)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, slack.OptionHTTPClient(cfg.HTTPClient))
	}
	// slack-go's debug mode stays off: it re-encodes every frame to redact
	// it and would hand payloads to a logger.
	t := &Transport{sm: socketmode.New(slack.New("", opts...)), log: cfg.Logger}
	t.setState(false, "not started")
	return t, nil
}

// Ready reports whether the socket is connected, and if not, why.
func (t *Transport) Ready() (bool, string) {
	s := t.state.Load()
	return s.ready, s.status
}

func (t *Transport) setState(ready bool, status string) { t.state.Store(&state{ready, status}) }

// Serve connects to Slack and hands every envelope to h, in the order
// Slack sent them, until ctx is done; the socket stays open for the acks
// of what it handed over until Close. It returns an error matching
// [ErrRefused] when Slack refuses the app token or the API URL.
func (t *Transport) Serve(ctx context.Context, h bot.Handler) error {
	run, stop := context.WithCancel(context.WithoutCancel(ctx))
	t.closeSocket, t.closed = stop, make(chan struct{})
	runErr := make(chan error, 1)
	go func() {
		defer close(t.closed)
		runErr <- t.sm.RunContext(run)
	}()
	for {
		select {
		case ev := <-t.sm.Events:
			t.dispatch(ev, h)
		case err := <-runErr:
			err = fmt.Errorf("%w: %w", ErrRefused, err)
			t.setState(false, "stopped: "+err.Error())
			return err
		case <-ctx.Done():
			// Envelopes that come from now on are not read: unacked, Slack
			// sends them again, to another replica or after a reconnect.
			t.setState(false, "shutting down")
			return nil
		}
	}
}

// Close closes the socket Serve opened, and waits until slack-go let go
// of it.
func (t *Transport) Close() {
	if t.closeSocket == nil {
		return
	}
	t.closeSocket()
	<-t.closed
	t.setState(false, "stopped")
}

// dispatch handles one event from slack-go without ever blocking: the loop
// that calls it must keep reading, or slack-go stops acking and
// reconnecting.
func (t *Transport) dispatch(ev socketmode.Event, h bot.Handler) {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if ev.Request == nil || ev.Request.EnvelopeID == "" {
			t.log.Warn("a message from Slack without an envelope ID: nothing to ack", "type", ev.Type)
			return
		}
		d := t.delivery(ev.Request.EnvelopeID)
		switch data := ev.Data.(type) {
		case slack.SlashCommand:
			h.HandleCommand(d, data)
		case slack.InteractionCallback:
			h.HandleInteraction(d, data)
		case slackevents.EventsAPIEvent:
			// A retried event may come in a new envelope: the event's own
			// ID is what identifies it.
			if cb, ok := data.Data.(*slackevents.EventsAPICallbackEvent); ok && cb.EventID != "" {
				d.ID = cb.EventID
			}
			h.HandleEvent(d, data)
		default:
			h.HandleUnreadable(d, ev.Request.Type, fmt.Errorf("socket: unexpected %T", ev.Data))
		}
	case socketmode.EventTypeErrorBadMessage:
		data, _ := ev.Data.(*socketmode.ErrorBadMessage)
		if data == nil {
			return
		}
		var head struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		_ = json.Unmarshal(data.Message, &head) // both stay empty if even this fails
		if head.EnvelopeID == "" {
			t.log.Warn("an unreadable message from Slack without an envelope ID: nothing to ack", "error", data.Cause)
			return
		}
		h.HandleUnreadable(t.delivery(head.EnvelopeID), head.Type, data.Cause)
	case socketmode.EventTypeConnecting:
		if e, ok := ev.Data.(*slack.ConnectingEvent); ok && e.ConnectionCount > 0 && e.Attempt == 1 {
			t.log.Info("reconnecting to Slack", "connection", e.ConnectionCount)
		}
		t.setState(false, "connecting")
	case socketmode.EventTypeConnectionError:
		if e, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			t.log.Warn("could not connect to Slack; retrying", "error", e.ErrorObj, "attempt", e.Attempt, "backoff", e.Backoff)
			t.setState(false, "connection error: "+e.Error())
		}
	case socketmode.EventTypeConnected:
		t.setState(true, "connected")
		t.log.Info("connected to Slack")
	case socketmode.EventTypeHello:
		if n := ev.Request.NumConnections; n > 1 {
			t.log.Info("Slack said hello", "num_connections", n,
				"note", "num_connections counts this app's open sockets; more than the replicas you run means another copy (a laptop?) uses the same app-level token and takes a share of the commands")
		}
	case socketmode.EventTypeIncomingError:
		if e, ok := ev.Data.(*slack.IncomingEventError); ok {
			t.log.Warn("error reading from the Slack socket", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok {
			t.log.Error("an ack was not written; the person may see a Slack error, and Slack may redeliver the envelope",
				"envelope_id", clip(e.Response.EnvelopeID), "error", e.Cause)
		}
	}
}

// delivery is an envelope as the bot takes it: acked by its envelope ID.
func (t *Transport) delivery(envelopeID string) bot.Delivery {
	return bot.Delivery{ID: envelopeID, Received: time.Now(), Ack: t, Ref: envelopeID}
}

// Ack writes an envelope's ack, body as its payload: a [bot.Acker]. One
// slack-go does not take within ctx (no socket) fails.
func (t *Transport) Ack(ctx context.Context, envelopeID string, body json.RawMessage) error {
	var payload any
	if body != nil {
		payload = body // an untyped nil sends no "payload" at all
	}
	return t.sm.AckCtx(ctx, envelopeID, payload)
}

// clip keeps an envelope ID from outside to a loggable length.
func clip(id string) string { return id[:min(len(id), 64)] }
