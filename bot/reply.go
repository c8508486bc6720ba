package bot

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// How an answer left, in the audit log. An ack is only queued: slack-go
// writes it later and reports a failed write separately (logged with the
// same envelope_id). Only a post Slack accepted is "delivered".
const (
	deliveryInAck     = "ack_queued"
	deliveryDelivered = "delivered"
	deliveryFailed    = "failed"
	deliveryNone      = "none"
)

// conclude sends j's one answer when the loop already knows it: in the ack
// for a command, otherwise on the response URL from a tracked goroutine.
// It runs in the loop.
func (b *Bot) conclude(j *job, res result) {
	if !j.acked && j.inAck {
		b.answer(j, res)
		return
	}
	if !j.acked {
		b.ack(j, nil)
	}
	b.wg.Go(func() { b.answer(j, res) })
}

// answer is the one way out: it renders j's result, sends it in the ack if j
// is not acked yet, or posts it to the response URL, and writes j's one
// audit line. A post runs even when the work context is cancelled: an answer
// must go out, for a bounded time.
func (b *Bot) answer(j *job, res result) {
	msg, outcome, level := b.render(j, res)
	// Given back before the answer leaves: a person who has read it may
	// ask again at once.
	if j.tookTurn && outcome.refundable() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		b.cfg.Ledger.GiveBack(ctx, j.user)
		cancel()
	}
	delivery := deliveryNone
	var postErr error
	switch {
	case !j.acked:
		b.ack(j, msg)
		delivery = deliveryInAck
	case msg != nil && j.responseURL != "":
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		postErr = b.respond.post(ctx, j.responseURL, msg)
		cancel()
		delivery = deliveryDelivered
		if postErr != nil {
			delivery, level = deliveryFailed, slog.LevelError
		}
	}
	b.audit(j, outcome, level, res, delivery, postErr)
}

// render is j's answer as a message (nil when there is none), with the audit
// outcome and log level.
func (b *Bot) render(j *job, res result) (*slack.WebhookMessage, Outcome, slog.Level) {
	switch {
	case res.err == nil && res.report != nil:
		msg := b.words.reportMessage(j.recordNo, res.report, time.Now())
		msg.ReplaceOriginal = j.replace
		return msg, OutcomeLink, slog.LevelInfo
	case res.err == nil && res.help:
		return b.words.helpMessage(b.cfg.Command), OutcomeHelp, slog.LevelInfo
	case res.err == nil:
		return textMessage(b.words.internal), OutcomeInternal, slog.LevelError // a result with nothing in it is a bug
	}
	text, outcome, level := b.explain(j, res.err)
	if text == "" {
		return nil, outcome, level
	}
	return textMessage(text), outcome, level
}

// ack acknowledges j's envelope, with payload as a command's immediate
// reply (a *slack.WebhookMessage, or the progress note's JSON; nil for
// none), and remembers it for redeliveries. It only queues: the acker
// writes.
func (b *Bot) ack(j *job, payload any) {
	j.acked = true
	msg, answer := payload.(*slack.WebhookMessage)
	if answer && msg == nil {
		payload, answer = nil, false // no "payload":null on the wire
	}
	a := pendingAck{envelopeID: j.envelopeID, kind: j.kind, user: j.user, recordNo: j.recordNo, payload: payload, read: j.read}
	b.seen.acked(a)
	if answer {
		b.cfg.Ledger.Acked(j.envelopeID, payload)
	}
	b.acks.push(a)
}

// audit writes the one log line of an envelope. It never logs the report
// URL or the response URL: both are credentials.
func (b *Bot) audit(j *job, outcome Outcome, level slog.Level, res result, delivery string, postErr error) {
	attrs := []slog.Attr{
		slog.String("user", j.user), slog.String("team", j.team), slog.String("channel", j.channel),
		slog.String("record", j.recordNo), slog.String("outcome", string(outcome)),
		slog.String("delivery", delivery), slog.Duration("duration", time.Since(j.read)),
		slog.String("envelope_id", j.envelopeID),
	}
	if res.report != nil {
		attrs = append(attrs, slog.String("seq", res.report.Seq))
	}
	if apiErr, ok := errors.AsType[*yibeidiao.APIError](res.err); ok {
		attrs = append(attrs, slog.String("vendor_code", apiErr.Code), slog.String("seq", apiErr.Seq))
	}
	if untrusted, ok := errors.AsType[*yibeidiao.UntrustedLinkError](res.err); ok {
		attrs = append(attrs, slog.String("link_host", untrusted.Host), slog.String("seq", untrusted.Seq))
	}
	if res.err != nil && level >= slog.LevelWarn {
		attrs = append(attrs, slog.String("error", res.err.Error()))
		if hint := b.cfg.Hint(res.err); hint != "" {
			attrs = append(attrs, slog.String("hint", hint))
		}
	}
	if postErr != nil {
		attrs = append(attrs, slog.String("delivery_error", postErr.Error()))
	}
	b.cfg.Observer.Answered(j.kind, outcome) // counted before it is logged: a reader of the log finds it counted
	b.log.LogAttrs(context.Background(), level, j.kind, attrs...)
}
