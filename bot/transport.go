package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// A Transport brings what Slack delivers to the bot and writes the bot's
// acks: Socket Mode (package socket) or HTTP request mode (package
// httpmode). It knows how bytes arrive; the bot decides what they mean.
type Transport interface {
	// Serve hands every delivery to h, in the order it arrived, until ctx
	// is done; then it stops handing deliveries over and returns nil, still
	// able to write the acks of those it handed over, until Close. It
	// returns an error early when it can never serve (Slack refused the
	// app token, the address is taken).
	Serve(ctx context.Context, h Handler) error
	// Close ends what Serve kept open for acks (Socket Mode's socket). The
	// bot calls it once, after Serve has returned and the last ack is
	// written.
	Close()
	// Ready reports whether Slack can reach the bot through the transport
	// now, and if not, why. It is safe to call from any goroutine.
	Ready() (ready bool, status string)
}

// Handler takes deliveries from a [Transport]; [*Bot] is one. Its methods
// never block and never ack: the ack is written later, exactly once,
// through the delivery's Ack.
type Handler interface {
	HandleCommand(d Delivery, cmd slack.SlashCommand)
	HandleInteraction(d Delivery, cb slack.InteractionCallback)
	// HandleEvent takes an Events API callback (type event_callback).
	HandleEvent(d Delivery, ev slackevents.EventsAPIEvent)
	// HandleUnreadable takes a delivery the transport could not decode;
	// payloadType is Slack's name for what it was ("slash_commands",
	// "interactive", "events_api"), "" if not even that was readable.
	HandleUnreadable(d Delivery, payloadType string, err error)
}

// Delivery is how one payload reached the bot, and the way to ack it.
type Delivery struct {
	// ID is what identifies the delivery when Slack sends it again: Socket
	// Mode's envelope ID, or an event's event_id (a retried event may come
	// in a new envelope, or a new HTTP request). "" when the transport
	// never sends a payload twice (HTTP commands and interactions).
	ID string
	// Received is when the transport read it.
	Received time.Time
	// Ack writes the delivery's one ack, naming it by Ref: the transport's
	// own name for it (Socket Mode's envelope ID). One Acker may serve
	// every delivery, so that handing one over costs nothing.
	Ack Acker
	Ref string
}

// Acker writes the ack of a delivery. The bot calls Ack exactly once per
// delivery, never from a Handler method, with the delivery's Ref. body is
// the ack's JSON (a command's message, a form's errors or its next view);
// nil for a bare ack.
type Acker interface {
	Ack(ctx context.Context, ref string, body json.RawMessage) error
}
