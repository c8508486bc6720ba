package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/internal/cleantext"
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

// envelopeRoom is what a route's arguments add to an answer, at most: a
// channel, a user and a thread, or a trigger.
const envelopeRoom = 160

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
	w := b.wordsFor(req.user, d.admitted)
	if d.res.outcome == OutcomeHome {
		d.res.fingerprint = homeFingerprint(w, d.res.allowed, b.answerFor(req))
		if d.res.fingerprint == req.published || !b.homes.claim(req.user, d.res.fingerprint) {
			d.res.outcome = OutcomeUnchanged
			b.audit(req, d.res, deliveryNone, nil)
			return
		}
	}
	var answer []byte
	if req.route.showsView() {
		answer = w.renderView((*buf)[:0], d.res, b.answerFor(req))
	} else {
		answer = w.render((*buf)[:0], d.res, b.answerFor(req))
	}
	if answer == nil {
		b.audit(req, d.res, deliveryNone, nil)
		return
	}
	*buf = answer[:0] // keep what it grew to
	// A copy, with the route's arguments around it: net/http may read a
	// request body after Do returns, and the buffer goes back to the pool
	// when this function does.
	body := req.route.envelope(make([]byte, 0, len(answer)+envelopeRoom), answer)
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	if req.ackWritten != nil {
		select {
		case <-req.ackWritten:
		case <-ctx.Done():
		}
	}
	err := b.deliver(ctx, req.route, body)
	delivery := deliveryDelivered
	if err != nil {
		delivery = deliveryFailed
		if d.res.outcome == OutcomeHome {
			b.homes.forget(req.user, d.res.fingerprint)
		}
	}
	if b.debug {
		b.log.Debug("answer posted", "delivery_id", req.key, "delivery", delivery)
	}
	b.audit(req, d.res, delivery, err)
}

// answerFor is who and what an answer is for, besides its result.
func (b *Bot) answerFor(req *request) answerFor {
	return answerFor{user: req.user, command: b.cfg.Command, replace: req.replace, entry: req.entry,
		contact: b.cfg.Contact, surfaces: b.cfg.Surfaces, version: b.cfg.Version}
}

// wordsOrFallback is wordsNow, or the fallback language while a person's
// own is still being looked up: for an ack that cannot wait.
func (b *Bot) wordsOrFallback(user string, admitted bool) *words {
	if w := b.wordsNow(user, admitted); w != nil {
		return w
	}
	return b.words
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
