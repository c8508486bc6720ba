package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"time"
)

// plan is what the settle goroutine knows of an envelope before the ledger
// has answered.
type plan struct {
	again bool   // a redelivery this replica has read before: ack it as it was acked
	res   result // how it ends, unless fetch
	fetch bool   // ask the vendor, if the person has a turn left
}

// settle ends a batch of envelopes, in the order the loop read them: it
// recognises redeliveries, decides each envelope, settles the new ones with
// the [Ledger] in one call (one Redis round trip for the batch), and ends
// each with its ack and, for a fetch, the vendor call. Every ack starts
// here (see [acks]); it never waits on the vendor or a post.
func (b *Bot) settle(work context.Context, envs []*envelope) {
	plans := slices.Grow(b.plans[:0], len(envs))[:len(envs)]
	claims := slices.Grow(b.claims[:0], len(envs))
	defer func() { // kept for the next batch, holding nothing
		clear(plans)
		clear(claims)
		b.plans, b.claims = plans[:0], claims[:0]
	}()
	for i, env := range envs {
		if !b.seen.remember(env) {
			plans[i].again = true
			continue
		}
		plans[i] = b.plan(env)
		claims = append(claims, Claim{EnvelopeID: env.key, User: env.user, Turn: plans[i].fetch})
	}
	settled := b.cfg.Ledger.Settle(context.WithoutCancel(work), claims)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(work), ackTimeout) // bounds the acks written from here
	defer cancel()
	for i, env := range envs {
		var s Settlement
		if !plans[i].again {
			s, settled = settled[0], settled[1:]
		}
		b.end(ctx, work, env, plans[i], s)
	}
}

// plan decides env, turning a panic into an apology.
func (b *Bot) plan(env *envelope) (p plan) {
	defer func() {
		if v := recover(); v != nil {
			p = plan{res: b.panicked(env, v)}
		}
	}()
	p.res, p.fetch = b.decide(env)
	env.text, env.message = "", nil // read: from here on no text is kept
	return p
}

// end acks env as the ledger settled it and starts what follows the ack.
// ctx bounds the ack; work is the context of the vendor call.
func (b *Bot) end(ctx, work context.Context, env *envelope, p plan, s Settlement) {
	defer func() {
		if v := recover(); v != nil {
			b.finish(ctx, env, b.panicked(env, v), false)
		}
	}()
	if b.debug {
		b.log.Debug("decided", "envelope_id", env.key, "kind", env.kind, "user", env.user, "record", p.res.recordNo,
			"outcome", p.res.outcome, "fetch", p.fetch, "redelivered", p.again, "taken_by_another_replica", s.Taken, "turn_wait", s.Wait)
	}
	switch {
	case p.again:
		payload, _ := b.seen.firstAck(env.key)
		b.log.Info("Slack redelivered an envelope; acked it again, not served twice", "envelope_id", env.key)
		b.acks.send(ctx, env, payload, false)
	case s.Taken:
		b.log.Info("Slack redelivered an envelope another replica served; acked it again, not served twice", "envelope_id", env.key)
		payload := s.FirstAck
		if w := b.wordsNow(env.user); s.Fetching && env.inAck && w != nil {
			payload = progressNote(b.progress[w], p.res.recordNo)
		}
		b.acks.send(ctx, env, payload, false) // remembered here too: a further redelivery is acked again
	case !p.fetch:
		b.finish(ctx, env, p.res, false)
	case s.Wait > 0:
		b.finish(ctx, env, p.res.with(OutcomeLimited, s.Wait), false)
	case b.inFlight.Load() >= int64(b.cfg.MaxInFlight):
		b.log.Warn("too many commands in flight: answering busy", "in_flight", b.inFlight.Load(), "max_in_flight", b.cfg.MaxInFlight)
		b.finish(ctx, env, p.res.with(OutcomeBusy, time.Second), true)
	default:
		var note json.RawMessage
		if w := b.wordsNow(env.user); env.inAck && w != nil {
			note = progressNote(b.progress[w], p.res.recordNo)
		}
		b.acks.send(ctx, env, note, false)
		b.inFlight.Add(1)
		b.wg.Go(func() {
			defer b.inFlight.Add(-1)
			defer func() {
				if v := recover(); v != nil {
					b.respond(context.Background(), env, b.panicked(env, v), false, true)
				}
			}()
			b.respond(context.Background(), env, b.fetch(work, env, p.res), false, true)
		})
	}
}

// finish ends an envelope whose answer is known without the vendor: a
// command's answer goes in its ack; anything else is acked at once and
// answered on its response URL, as is a command from someone whose
// language is still being looked up. tookTurn says the person's turn was
// taken.
func (b *Bot) finish(ctx context.Context, env *envelope, res result, tookTurn bool) {
	// Without a person or a response URL, the ack is the only way out:
	// then it goes there in whatever language is known now.
	if env.inAck && (env.user == "" || !usableResponseURL(env.responseURL) || b.wordsNow(env.user) != nil) {
		b.respond(ctx, env, res, true, tookTurn)
		return
	}
	b.acks.send(ctx, env, nil, false)
	b.wg.Go(func() { b.respond(context.Background(), env, res, false, tookTurn) })
}

// panicked turns a bug into an apology instead of a crash and a person
// left waiting.
func (b *Bot) panicked(env *envelope, v any) result {
	b.log.Error("panic while serving an envelope", "panic", fmt.Sprint(v), "stack", string(debug.Stack()),
		"envelope_id", env.key, "user", env.user)
	return result{outcome: OutcomeInternal, err: fmt.Errorf("bot: panic: %v", v)}
}

// wordsNow is the language to answer user in, if it is known without
// waiting: always, unless each person is answered in their own language
// and user's is still being looked up (then nil).
func (b *Bot) wordsNow(user string) *words {
	if b.locales == nil || user == "" {
		return b.words
	}
	lang, ok := b.locales.Known(user)
	if !ok {
		return nil
	}
	return languages[lang]
}
