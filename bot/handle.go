package bot

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// HandleCommand, HandleInteraction, HandleEvent and HandleUnreadable make
// the bot a [Handler]: each reads the delivery through the surface's
// reader and queues it for the decision goroutine, in the order the
// transport handed it over. They never block. A transport calls them only
// while [Bot.Run] runs it.

// HandleCommand takes a slash command.
func (b *Bot) HandleCommand(d Delivery, cmd slack.SlashCommand) {
	b.accept(d, readCommand(cmd, b.cfg.Command))
}

// HandleInteraction takes an interaction: a button, a shortcut, a view.
// One the surface does not name is acked and not answered.
func (b *Bot) HandleInteraction(d Delivery, cb slack.InteractionCallback) {
	b.accept(d, readAnyInteraction(cb))
}

// HandleEvent takes an Events API callback. One the surface does not name
// is acked and not answered.
func (b *Bot) HandleEvent(d Delivery, ev slackevents.EventsAPIEvent) {
	req := readAnyEvent(ev)
	if req.team == "" {
		req.team = ev.TeamID // an inner event does not say its team; the callback does
	}
	b.accept(d, req)
}

// readAnyInteraction reads cb by the surface's reader for it; anything the
// surface does not name, or without a person, is an ignored click.
func readAnyInteraction(cb slack.InteractionCallback) request {
	read, action := interactionEntry(cb)
	if read == nil || cb.User.ID == "" {
		return request{entry: EntryClick, refusal: &result{outcome: OutcomeIgnored}}
	}
	return read(cb, action)
}

// readAnyEvent reads ev by the surface's reader for it; anything else is
// an ignored event.
func readAnyEvent(ev slackevents.EventsAPIEvent) request {
	read := events[ev.InnerEvent.Type]
	if read == nil {
		return request{entry: EntryEvent, refusal: &result{outcome: OutcomeIgnored}}
	}
	return read(ev.InnerEvent)
}

// HandleUnreadable takes what the transport could not decode. A slash
// command gets an apology in its ack instead of Slack's dispatch_failed.
func (b *Bot) HandleUnreadable(d Delivery, payloadType string, err error) {
	req := request{entry: EntryUnreadable,
		refusal: &result{outcome: OutcomeUnreadable, err: fmt.Errorf("%w (%s): %w", ErrUnreadable, payloadType, err)}}
	if payloadType == "slash_commands" {
		req.ackForm = ackMessage
	}
	b.accept(d, req)
}

// accept completes what a reader read with what the transport knows, and
// queues it.
func (b *Bot) accept(d Delivery, req request) {
	req.key, req.received, req.ack, req.ackRef = keyOf(d.ID), d.Received, d.Ack, d.Ref
	if req.key == "" {
		req.key = onceKey()
	}
	req.user = clipID(req.user)
	req.route = b.pin(req.route)
	if req.ackForm == ackView {
		req.ackWritten = make(chan struct{})
	}
	b.queue.Push(&req)
}

// onceKey names a delivery Slack never sends twice (an HTTP command or
// interaction), for the ledger's claim: unique across replicas.
func onceKey() string {
	return fmt.Sprintf("once:%s:%d", processID, onceCount.Add(1))
}

var (
	processID = func() string { b := make([]byte, 8); _, _ = rand.Read(b); return hex.EncodeToString(b) }()
	onceCount atomic.Uint64
)
