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
	"sync"
	"time"

	"github.com/hr-tools/tempreport/internal/cleantext"
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

// answerBuffers hold answers being encoded and posted: most answers are a
// link posted once, and need no memory of their own after the post.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// Posting answers: how long two tries may take, and how long to wait
// before the second.
const (
	answerTimeout  = 3 * time.Second
	postRetryDelay = 500 * time.Millisecond
)

// respond is the one way out: it renders res in the person's words, gives
// the person's turn back when the vendor was never the problem, sends the
// answer in env's ack (inAck, within ctx) or posts it to the response URL
// (within answerTimeout, even when the work context is cancelled: an answer
// must go out), and writes env's one audit line.
func (b *Bot) respond(ctx context.Context, env *envelope, res result, inAck, tookTurn bool) {
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	body := b.wordsFor(env.user, inAck).render((*buf)[:0], res,
		answerFor{user: env.user, recordNo: res.recordNo, replace: env.replace, command: b.cfg.Command})
	if body != nil {
		*buf = body[:0] // keep what it grew to
	}
	// Given back before the answer leaves: a person who has read it may
	// ask again at once.
	if tookTurn && res.outcome.refundable() {
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		b.cfg.Ledger.GiveBack(ctx, env.user)
		cancel()
	}
	delivery, level := deliveryNone, res.level()
	var postErr error
	switch {
	case inAck:
		if body != nil {
			body = bytes.Clone(body) // the ack is remembered: it outlives the buffer
		}
		b.acks.send(ctx, env, body, body != nil)
		delivery = deliveryInAck
	case body != nil:
		ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
		// A copy: net/http may read a request body after Do returns, and the
		// buffer goes back to the pool when this function does.
		postErr = b.postAnswer(ctx, env.responseURL, bytes.Clone(body))
		cancel()
		delivery = deliveryDelivered
		if postErr != nil {
			delivery, level = deliveryFailed, slog.LevelError
		}
		if b.debug {
			b.log.Debug("answer posted", "envelope_id", env.key, "delivery", delivery)
		}
	}
	b.writeAudit(env, res, level, delivery, postErr)
}

// wordsFor is the language to answer user in. In an ack it never waits (the
// settle goroutine acks in the ack only when the language is known);
// otherwise it waits a bounded time for the person's language to be read,
// and a lookup that fails or is slow gets the fallback language, said once
// in the log.
func (b *Bot) wordsFor(user string, inAck bool) *words {
	if b.locales == nil || user == "" {
		return b.words
	}
	if inAck {
		if w := b.wordsNow(user); w != nil {
			return w
		}
		return b.words
	}
	lang, err := b.locales.Language(context.Background(), user)
	if err != nil {
		b.log.Warn("could not read a person's Slack language; answering in the fallback language", "user", user,
			"fallback", b.cfg.FallbackLanguage, "error", err, "hint", b.cfg.Hint(err))
	}
	return languages[lang]
}

// writeAudit writes the one log line of an envelope. It never logs the report
// URL, the response URL or the text of a message a shortcut was used on.
func (b *Bot) writeAudit(env *envelope, res result, level slog.Level, delivery string, postErr error) {
	b.cfg.Observer.Answered(env.kind, res.outcome) // counted before it is logged: a reader of the log finds it counted
	if !b.log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("user", env.user), slog.String("team", env.team), slog.String("channel", env.channel),
		slog.String("record", res.recordNo), slog.String("outcome", string(res.outcome)),
		slog.String("delivery", delivery), slog.Duration("duration", time.Since(env.read)),
		slog.String("envelope_id", env.key),
	)
	if env.kind == KindShortcut || len(res.records) > 1 {
		// The first few: a hostile message can name thousands.
		attrs = append(attrs, slog.Any("records_found", res.records[:min(len(res.records), maxOffered)]))
		if len(res.records) > maxOffered {
			attrs = append(attrs, slog.Int("records_found_count", len(res.records)))
		}
	}
	if v := res.vendor; v.code != "" {
		attrs = append(attrs, slog.String("vendor_code", v.code))
	}
	if v := res.vendor; v.seq != "" {
		attrs = append(attrs, slog.String("seq", v.seq))
	}
	if v := res.vendor; v.linkHost != "" {
		attrs = append(attrs, slog.String("link_host", cleantext.String(v.linkHost)))
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
	b.log.LogAttrs(context.Background(), level, env.kind, attrs...)
}

// postAnswer delivers an answer's JSON to a response URL, trying once more after
// a short pause if the first try fails: a lost answer is a person left
// waiting. At most maxPosts posts run at once. A response URL is a
// credential (anyone holding it can post as the app for 30 minutes), so no
// error from here contains it.
func (b *Bot) postAnswer(ctx context.Context, responseURL string, body []byte) error {
	if responseURL == "" { // decide refused any other unusable one before a vendor turn was spent on it
		return errNoResponseURL
	}
	select {
	case b.postSlots <- struct{}{}:
		defer func() { <-b.postSlots }()
	case <-ctx.Done():
		return fmt.Errorf("bot: waiting to post an answer: %w", ctx.Err())
	}
	err := b.tryPost(ctx, responseURL, body)
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
