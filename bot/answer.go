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
	"github.com/hr-tools/tempreport/internal/retry"
)

// How an answer left, in the audit log. An ack is only handed to the
// transport: a failed write is logged separately, with the same delivery
// key. Only a post Slack accepted is "delivered".
const (
	deliveryInAck     = "ack_queued"
	deliveryDelivered = "delivered"
	deliveryFailed    = "failed"
	deliveryNone      = "none"
)

// answerBuffers hold answers being encoded and posted: most answers are a
// link posted once, and need no memory of their own after the post.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// answer delivers d's answer by req's route, after its ack: it gives the
// person's turn back when the outcome refunds, renders the answer in the
// person's words, posts it (within answerTimeout, even when the work
// context is cancelled: an answer must go out) and writes the audit line.
func (b *Bot) answer(req *request, d *decision) {
	// Given back before the answer leaves: a person who has read it may
	// ask again at once.
	if d.turn && outcomes[d.res.outcome].refund {
		b.giveBack(req.user)
	}
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	body := b.wordsFor(req.user, d.admitted).render((*buf)[:0], d.res, b.answerFor(req))
	if body == nil {
		b.audit(req, d.res, deliveryNone, nil)
		return
	}
	*buf = body[:0] // keep what it grew to
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	// A copy: net/http may read a request body after Do returns, and the
	// buffer goes back to the pool when this function does.
	err := b.deliver(ctx, req.route, bytes.Clone(body))
	delivery := deliveryDelivered
	if err != nil {
		delivery = deliveryFailed
	}
	if b.debug {
		b.log.Debug("answer posted", "delivery_id", req.key, "delivery", delivery)
	}
	b.audit(req, d.res, delivery, err)
}

// answerFor is who and what an answer is for, besides its result.
func (b *Bot) answerFor(req *request) answerFor {
	return answerFor{user: req.user, command: b.cfg.Command, replace: req.replace}
}

func (b *Bot) giveBack(user string) {
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	b.deps.Ledger.GiveBack(ctx, user)
}

// wordsNow is the language to answer user in, if it is known without
// waiting: nil only when each person is answered in their own language
// and an admitted user's is still being looked up. People the allowlist
// does not admit are never looked up: they cost no Slack API call and no
// place in the cache.
func (b *Bot) wordsNow(user string, admitted bool) *words {
	if b.locales == nil || user == "" || !admitted {
		return b.words
	}
	lang, ok := b.locales.Known(user)
	if !ok {
		return nil
	}
	return catalogues[lang]
}

// wordsFor is the language to answer user in, waiting a bounded time for
// an admitted person's language to be read; a lookup that fails or is
// slow gets the fallback language, said once in the log.
func (b *Bot) wordsFor(user string, admitted bool) *words {
	if b.locales == nil || user == "" || !admitted {
		return b.words
	}
	lang, err := b.locales.Language(context.Background(), user)
	if err != nil {
		b.log.Warn("could not read a person's Slack language; answering in the fallback language", "user", user,
			"fallback", b.cfg.FallbackLanguage, "error", err, "hint", b.deps.Hint(err))
	}
	return catalogues[lang]
}

// audit writes the one log line of a request, and counts it. It never logs
// the report URL, the response URL or the text of a message.
func (b *Bot) audit(req *request, res result, delivery string, deliveryErr error) {
	b.deps.Observer.Answered(req.entry, res.outcome) // counted before it is logged: a reader of the log finds it counted
	level := outcomes[res.outcome].level
	if deliveryErr != nil {
		level = slog.LevelError
	}
	if !b.log.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("user", req.user), slog.String("team", req.team), slog.String("channel", req.channel),
		slog.String("record", res.recordNo), slog.String("outcome", string(res.outcome)),
		slog.String("delivery", delivery), slog.Duration("duration", time.Since(req.received)),
		slog.String("delivery_id", req.key),
	)
	if req.entry == EntryShortcut || len(res.records) > 1 {
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
		if hint := b.deps.Hint(res.err); hint != "" {
			attrs = append(attrs, slog.String("hint", cleantext.String(hint)))
		}
	}
	if deliveryErr != nil {
		attrs = append(attrs, slog.String("delivery_error", cleantext.String(deliveryErr.Error())))
	}
	b.log.LogAttrs(context.Background(), level, string(req.entry), attrs...)
}

// deliver sends an answer's JSON by its route, trying once more after a
// short pause if the first try fails: a lost answer is a person left
// waiting. At most maxPosts deliveries run at once. A response URL is a
// credential (anyone holding it can post as the app for 30 minutes), so no
// error from here contains it.
func (b *Bot) deliver(ctx context.Context, r route, body []byte) error {
	if r.kind == routeNone {
		return errNoRoute
	}
	select {
	case b.posts <- struct{}{}:
		defer func() { <-b.posts }()
	case <-ctx.Done():
		return fmt.Errorf("bot: waiting to post an answer: %w", ctx.Err())
	}
	var first error
	err := retry.Do(ctx, 2, func(int) time.Duration { return retryDelay }, func(n int) (bool, error) {
		err := b.post(ctx, r.responseURL, body)
		if n == 0 {
			first = err
		}
		return true, err
	})
	if err == nil || err == first {
		return err
	}
	if _, ok := errors.AsType[*retry.InterruptedError](err); ok {
		return fmt.Errorf("bot: %w", err)
	}
	return fmt.Errorf("bot: posting answer failed twice: %w; first: %w", err, first)
}

// post makes one try of posting body to a URL of Slack's.
func (b *Bot) post(ctx context.Context, to string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return errors.New("bot: building answer request failed")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.deps.HTTPClient.Do(req)
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
