package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/internal/cleantext"
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

// conclude sends j's one answer when it is known without the vendor: in
// the ack for a command, otherwise on the response URL from a tracked
// goroutine.
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

// answer is the one way out: it renders j's result in the person's words,
// sends it in the ack if j is not acked yet or posts it to the response
// URL, and writes j's one audit line. A post runs even when the work
// context is cancelled: an answer must go out, for a bounded time.
func (b *Bot) answer(j *job, res result) {
	msg := b.words.message(j, res, b.cfg.Command)
	// Given back before the answer leaves: a person who has read it may
	// ask again at once.
	if j.tookTurn && res.outcome.refundable() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		b.cfg.Ledger.GiveBack(ctx, j.user)
		cancel()
	}
	delivery, level := deliveryNone, res.level()
	var postErr error
	switch {
	case !j.acked:
		b.ack(j, msg)
		delivery = deliveryInAck
	case msg != nil:
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		postErr = b.post(ctx, j.responseURL, msg)
		cancel()
		delivery = deliveryDelivered
		if postErr != nil {
			delivery, level = deliveryFailed, slog.LevelError
		}
		if b.debug {
			b.log.Debug("answer posted", "envelope_id", j.envelopeID, "delivery", delivery)
		}
	}
	b.audit(j, res, level, delivery, postErr)
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
// URL, the response URL or the text of a message a shortcut was used on.
func (b *Bot) audit(j *job, res result, level slog.Level, delivery string, postErr error) {
	attrs := []slog.Attr{
		slog.String("user", j.user), slog.String("team", j.team), slog.String("channel", j.channel),
		slog.String("record", j.recordNo), slog.String("outcome", string(res.outcome)),
		slog.String("delivery", delivery), slog.Duration("duration", time.Since(j.read)),
		slog.String("envelope_id", j.envelopeID),
	}
	if j.kind == KindShortcut {
		attrs = append(attrs, slog.Any("records_found", j.found))
	}
	if res.report != nil {
		attrs = append(attrs, slog.String("seq", res.report.Seq))
	}
	if apiErr, ok := errors.AsType[*yibeidiao.APIError](res.err); ok {
		attrs = append(attrs, slog.String("vendor_code", apiErr.Code), slog.String("seq", apiErr.Seq))
	}
	if untrusted, ok := errors.AsType[*yibeidiao.UntrustedLinkError](res.err); ok {
		attrs = append(attrs, slog.String("link_host", cleantext.String(untrusted.Host)), slog.String("seq", untrusted.Seq))
	}
	if res.err != nil && level >= slog.LevelWarn {
		// Text from outside (the vendor's message, a host) is cleaned of
		// control and invisible characters before it reaches a log.
		attrs = append(attrs, slog.String("error", cleantext.String(res.err.Error())))
		if hint := b.cfg.Hint(res.err); hint != "" {
			attrs = append(attrs, slog.String("hint", cleantext.String(hint)))
		}
	}
	if postErr != nil {
		attrs = append(attrs, slog.String("delivery_error", cleantext.String(postErr.Error())))
	}
	b.cfg.Observer.Answered(j.kind, res.outcome) // counted before it is logged: a reader of the log finds it counted
	b.log.LogAttrs(context.Background(), level, j.kind, attrs...)
}

// post delivers msg to a response URL, trying once more after a short
// pause if the first try fails: a lost answer is a person left waiting.
// At most maxPosts posts run at once. A response URL is a credential
// (anyone holding it can post as the app for 30 minutes), so no error from
// here contains it.
func (b *Bot) post(ctx context.Context, responseURL string, msg *slack.WebhookMessage) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("bot: encoding answer: %w", err)
	}
	if !usableResponseURL(responseURL) {
		return errNoResponseURL
	}
	select {
	case b.postSlots <- struct{}{}:
		defer func() { <-b.postSlots }()
	case <-ctx.Done():
		return fmt.Errorf("bot: waiting to post an answer: %w", ctx.Err())
	}
	err = b.tryPost(ctx, responseURL, body)
	if err == nil {
		return nil
	}
	t := time.NewTimer(postRetryDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return fmt.Errorf("bot: posting answer: %w (first try: %w)", ctx.Err(), err)
	}
	if err2 := b.tryPost(ctx, responseURL, body); err2 != nil {
		return fmt.Errorf("bot: posting answer failed twice: %w; first: %w", err2, err)
	}
	return nil
}

// Posting answers: how long to wait before the second try, and how many
// posts may run at once.
const (
	postRetryDelay = 500 * time.Millisecond
	maxPosts       = 64
)

func (b *Bot) tryPost(ctx context.Context, responseURL string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("bot: building answer request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err // its message would carry the URL
		}
		return fmt.Errorf("bot: posting answer: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bot: posting answer: slack answered http %d %q", resp.StatusCode, clip(reply))
	}
	var status struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(reply, &status) == nil && status.OK != nil && !*status.OK {
		return fmt.Errorf("bot: posting answer: slack said %q", clip([]byte(status.Error)))
	}
	return nil
}

func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 100 {
		b = b[:100]
	}
	return string(b)
}
