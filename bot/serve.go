package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"
)

// serve takes a batch of requests, in the order they arrived: it
// recognises deliveries sent again, decides each request, claims the new
// ones with the [Ledger] in one call (one Redis round trip for the
// batch), and concludes each. It never waits on the vendor or a post.
func (b *Bot) serve(work context.Context, reqs []*request) {
	verdicts := make([]verdict, len(reqs))
	again := make([]bool, len(reqs))
	claims := make([]Claim, 0, len(reqs))
	for i, req := range reqs {
		if !b.seen.remember(req) {
			again[i] = true
			continue
		}
		v := b.decideSafely(req)
		verdicts[i] = v
		hold := !v.fetch && req.route.kind != routeNone && v.res.outcome != OutcomeIgnored && (req.ackForm == ackBare || v.readLater)
		claims = append(claims, Claim{Key: req.key, User: req.user, Turn: v.fetch, Hold: hold})
	}
	settled := b.deps.Ledger.Settle(context.WithoutCancel(work), claims)
	for i, req := range reqs {
		b.concludeSafely(work, req, verdicts[i], settled[req.key], again[i])
	}
}

// concludeSafely resolves and concludes req, turning a panic into an
// apology instead of a crash: in the ack when the ack was not written yet
// (a command's carries it), and in the audit line.
func (b *Bot) concludeSafely(work context.Context, req *request, v verdict, s Settlement, again bool) {
	acked := false
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		res := b.panicked(req, p)
		if !acked {
			var body json.RawMessage
			if req.ackForm == ackMessage {
				body = apologies[b.words]
			}
			b.acks.send(req, body, false)
		}
		b.audit(req, res, deliveryNone, nil)
	}()
	b.conclude(work, req, b.resolve(req, v, s, again), &acked)
}

// decideSafely is decide, turning a panic into an apology.
func (b *Bot) decideSafely(req *request) (v verdict) {
	defer func() {
		if p := recover(); p != nil {
			v = verdict{res: b.panicked(req, p)}
		}
	}()
	return b.decide(req)
}

// resolve turns a verdict and the ledger's settlement into the decision:
// pure but for the person's language and the in-flight count, which it
// reads.
func (b *Bot) resolve(req *request, v verdict, s Settlement, again bool) decision {
	switch {
	case again:
		body, _ := b.seen.firstAck(req.key)
		b.log.Info("Slack sent a delivery again; acked it as before, not served twice", "delivery", req.key)
		return decision{ack: body, then: thenRepeat}
	case s.Taken:
		b.log.Info("Slack sent a delivery again that another replica served; acked it as before, not served twice", "delivery", req.key)
		body := s.FirstAck
		if s.Fetching {
			body = b.progressAck(req, v.res.recordNo)
		}
		return decision{ack: body, then: thenRepeat}
	case v.readLater:
		return decision{then: thenRead, admitted: true}
	case !v.fetch:
		return b.answerNow(req, decision{res: v.res, admitted: v.admitted})
	case s.Wait > 0:
		return b.answerNow(req, decision{res: v.res.with(OutcomeLimited, s.Wait), admitted: true})
	case b.inFlight.Load() >= int64(b.cfg.MaxInFlight):
		b.log.Warn("too many requests waiting on the vendor: answering overloaded", "in_flight", b.inFlight.Load(), "max_in_flight", b.cfg.MaxInFlight)
		return b.answerNow(req, decision{res: v.res.with(OutcomeOverloaded, time.Second), turn: true, admitted: true})
	}
	return decision{then: thenFetch, res: v.res, turn: true, admitted: true, ack: b.progressAck(req, v.res.recordNo)}
}

// progressAck is the ack of a request whose answer is being fetched: a
// command's progress note, or a form's "getting…" view; nil (a bare ack)
// when the ack carries nothing, or when a command's person's language is
// not known yet.
func (b *Bot) progressAck(req *request, record string) json.RawMessage {
	switch req.ackForm {
	case ackMessage:
		if w := b.wordsNow(req.user, true); w != nil {
			return progressNote(w, record)
		}
	case ackView:
		return b.wordsOrFallback(req.user, true).formUpdate(nil, result{recordNo: record}, b.answerFor(req))
	}
	return nil
}

// answerNow completes d, whose answer is known without the vendor: a
// command's goes in its ack when the person's language is known now, or
// the ack is the only way back; a form's always does (errors under its
// input, or its next view); anything else follows a bare ack on its route.
func (b *Bot) answerNow(req *request, d decision) decision {
	switch {
	case d.res.outcome == OutcomeIgnored, req.ackForm == ackBare && req.route.kind == routeNone:
		d.then = thenAudit // nothing to say, or nowhere to say it
	case req.ackForm == ackMessage:
		w := b.wordsNow(req.user, d.admitted)
		if w == nil && req.route.kind != routeNone {
			d.then = thenAnswer
			break
		}
		if w == nil {
			w = b.words
		}
		d.ack, d.share, d.then = w.render(nil, d.res, b.answerFor(req)), true, thenAudit
	case req.ackForm == ackView:
		d.ack, d.share, d.then = b.wordsOrFallback(req.user, d.admitted).formAck(nil, d.res, b.answerFor(req)), true, thenAudit
	default:
		d.then = thenAnswer
	}
	return d
}

// conclude writes req's one ack, as d carries it, and starts what follows;
// acked says the ack is written.
func (b *Bot) conclude(work context.Context, req *request, d decision, acked *bool) {
	b.acks.send(req, d.ack, d.share)
	*acked = true
	if b.debug {
		b.log.Debug("decided", "delivery", req.key, "entry", req.entry, "user", req.user, "record", d.res.recordNo,
			"outcome", d.res.outcome, "then", d.then.String())
	}
	switch d.then {
	case thenRepeat:
	case thenAudit:
		if d.turn && outcomes[d.res.outcome].refund {
			b.follow.Go(func() { b.giveBack(req.user) })
		}
		delivery := deliveryNone
		if d.ack != nil {
			delivery = deliveryInAck
		}
		b.audit(req, d.res, delivery, nil)
	case thenAnswer:
		req.decided = d // kept with the request: the goroutine holds one pointer
		b.follow.Go(func() {
			defer b.recoverAnswer(req)
			b.answer(req, &req.decided)
		})
	case thenFetch:
		req.decided = d
		b.inFlight.Add(1)
		b.follow.Go(func() {
			defer b.inFlight.Add(-1)
			defer b.recoverAnswer(req)
			req.decided.res = b.fetch(work, req, req.decided.res)
			b.answer(req, &req.decided)
		})
	case thenRead:
		req.decided = d
		b.follow.Go(func() {
			defer b.recoverAnswer(req)
			b.readMessage(work, req)
		})
	}
}

// readMessage reads the message a request carries, after its ack, and
// answers what it asks for. A fetch takes the person's turn with a claim
// of its own (the delivery itself was claimed with the batch, before the
// ack).
func (b *Bot) readMessage(work context.Context, req *request) {
	text := b.readText(req)
	req.message = nil // read: from here on no text is kept
	v := b.find(req, text)
	d := &req.decided
	d.res = v.res
	if !v.fetch {
		b.answer(req, d)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(work), ackTimeout)
	turnKey := req.key + ":turn"
	s := b.deps.Ledger.Settle(ctx, []Claim{{Key: turnKey, User: req.user, Turn: true}})[turnKey]
	cancel()
	switch {
	case s.Taken:
		// Another replica holds this delivery's turn: it serves it.
		b.log.Info("Slack sent a delivery again that another replica served; acked it as before, not served twice", "delivery", req.key)
		return
	case s.Wait > 0:
		d.res = v.res.with(OutcomeLimited, s.Wait)
	case b.inFlight.Load() >= int64(b.cfg.MaxInFlight):
		d.res, d.turn = v.res.with(OutcomeOverloaded, time.Second), true
	default:
		d.turn = true
		b.inFlight.Add(1)
		defer b.inFlight.Add(-1)
		d.res = b.fetch(work, req, v.res)
	}
	b.answer(req, d)
}

// readText is the text of req's message, read by at most maxReads at once.
func (b *Bot) readText(req *request) string {
	b.reads <- struct{}{}
	defer func() { <-b.reads }()
	return messageTexts(*req.message)
}

// recoverAnswer answers with an apology when answering panicked.
func (b *Bot) recoverAnswer(req *request) {
	if p := recover(); p != nil {
		req.decided.res = b.panicked(req, p)
		b.answer(req, &req.decided)
	}
}

// panicked turns a bug into an apology instead of a crash and a person
// left waiting.
func (b *Bot) panicked(req *request, v any) result {
	b.log.Error("panic while serving a request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()),
		"delivery", req.key, "user", req.user)
	return result{outcome: OutcomeInternal, err: fmt.Errorf("bot: panic: %v", v)}
}
