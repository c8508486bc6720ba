package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// job is one envelope on its way to its one answer. The loop fills it in;
// after the ack, only the goroutine serving it touches it.
type job struct {
	kind        string // "command", "click", "event" or "unreadable": the audit line's message
	envelopeID  string
	user        string
	team        string
	channel     string
	recordNo    string
	responseURL string
	inAck       bool      // the ack can carry the answer: slash commands
	replace     bool      // a click's new link replaces the message with the button
	read        time.Time // when the loop read the envelope
	tookTurn    bool      // took a turn from the person's limit
	acked       bool
}

// result is how a job ended: a report, help, or the error that says why not.
type result struct {
	report *yibeidiao.TempReport
	help   bool
	err    error
}

// handle decides what to do with one envelope, in the order Slack sent
// them: it recognises a redelivery, parses, checks the allowlist, takes a
// turn from the person's limit and acks. It never blocks; the vendor call
// and the answer it leads to run in a tracked goroutine.
func (b *Bot) handle(work context.Context, ev socketmode.Event) {
	j := &job{read: time.Now()}
	bad, unreadable := ev.Data.(*socketmode.ErrorBadMessage)
	switch {
	case ev.Request != nil:
		j.envelopeID = ev.Request.EnvelopeID
	case unreadable:
		j.envelopeID = envelopeOf(bad).EnvelopeID
	}
	if j.envelopeID == "" {
		b.log.Warn("a message from Slack without an envelope ID: nothing to ack", "type", ev.Type)
		return
	}
	defer b.recoverPanic(j)
	switch again, pending := b.seen.ackAgain(j.envelopeID, j.read, b.acks); {
	case again:
		b.log.Info("Slack redelivered an envelope; acked it again, not served twice", "envelope_id", j.envelopeID)
		return
	case pending:
		b.log.Info("Slack redelivered an envelope before its first ack; it will be acked once, not served twice", "envelope_id", j.envelopeID)
		return
	}
	b.seen.remember(pendingAck{envelopeID: j.envelopeID, read: j.read})
	res, fetch := b.decide(j, ev)
	x := settling{job: j, res: res, fetch: fetch}
	if local, ok := b.cfg.Ledger.(*personalLimits); ok {
		// Memory answers at once: the loop settles itself, as one
		// replica always has, sparing the settler's hand-off.
		b.settle(work, x, local.settle(Claim{EnvelopeID: j.envelopeID, User: j.user, Turn: fetch}, j.read))
		return
	}
	b.wg.Add(1)
	b.settler.push(x)
}

// settle ends what the loop decided, once the ledger has claimed the
// envelope and, for a fetch, taken a turn: it runs in the settler, in
// arrival order, and never waits on the network.
func (b *Bot) settle(work context.Context, x settling, s Settlement) {
	j := x.job
	defer b.recoverPanic(j)
	switch {
	case s.Taken:
		b.log.Info("Slack redelivered an envelope another replica served; acked it again, not served twice", "envelope_id", j.envelopeID)
		var payload any
		switch {
		case s.Fetching && j.inAck:
			payload = progressNote(b.progressJSON, j.recordNo)
		case len(s.FirstAck) > 0:
			payload = s.FirstAck
		}
		j.acked = true
		b.acks.push(pendingAck{envelopeID: j.envelopeID, kind: j.kind, user: j.user, recordNo: j.recordNo, payload: payload, read: j.read})
		return
	case !x.fetch:
		b.conclude(j, x.res)
		return
	case s.Wait > 0:
		b.conclude(j, result{err: &limitError{retryAfter: s.Wait}})
		return
	}
	j.tookTurn = true
	var note any
	if j.inAck {
		note = progressNote(b.progressJSON, j.recordNo)
	}
	b.ack(j, note)
	b.inFlight.Add(1)
	b.wg.Go(func() {
		defer b.inFlight.Add(-1)
		defer b.recoverPanic(j)
		b.answer(j, b.fetch(work, j))
	})
}

// decide reads the envelope into j and says how it ends without the vendor,
// or fetch to ask the vendor if the person has a turn left. It runs in the
// loop and never waits.
func (b *Bot) decide(j *job, ev socketmode.Event) (res result, fetch bool) {
	var text string
	switch data := ev.Data.(type) {
	case slack.SlashCommand:
		j.kind, j.inAck, j.user, j.team, j.channel, j.responseURL = KindCommand, true, data.UserID, data.TeamID, data.ChannelID, data.ResponseURL
		if data.Command != b.cfg.Command {
			return result{err: &WrongCommandError{Got: data.Command, Want: b.cfg.Command}}, false
		}
		text = data.Text
	case slack.InteractionCallback:
		j.kind = KindClick
		c, ok := parseClick(data)
		if !ok {
			return result{err: errIgnored}, false
		}
		j.user, j.team, j.channel, j.responseURL, j.replace = c.user, c.team, c.channel, c.responseURL, true
		text = c.value
	case *socketmode.ErrorBadMessage:
		return b.unreadable(j, data), false
	default: // events: the app subscribes to none, but an unacked one is retried
		j.kind = KindEvent
		return result{err: errIgnored}, false
	}

	recordNo, help, err := ParseCommand(text)
	if j.kind == KindClick && err == nil && help {
		err = &InputError{Problem: NoRecordData}
	}
	j.recordNo = recordNo
	verdict := b.access.check(j.user, j.read)
	switch {
	case b.draining:
		return result{err: errRestarting}, false
	case verdict == denied:
		return result{err: errDenied}, false
	case verdict == unconfirmed:
		return result{err: errUnconfirmed}, false
	case help:
		return result{help: true}, false
	case err != nil:
		return result{err: err}, false
	}
	return result{}, true
}

// unreadable reads what it can of an envelope slack-go could not parse, so a
// command gets an apology instead of Slack's dispatch_failed.
func (b *Bot) unreadable(j *job, bad *socketmode.ErrorBadMessage) result {
	env := envelopeOf(bad)
	j.kind = KindUnreadable
	if env.Type != socketmode.RequestTypeSlashCommands {
		return result{err: fmt.Errorf("%w (%s): %w", ErrUnreadable, env.Type, bad.Cause)}
	}
	j.inAck = true
	return result{err: fmt.Errorf("%w: %w", ErrUnreadable, bad.Cause)}
}

// envelopeOf reads the envelope's ID and type out of a message slack-go
// could not parse; both are empty if even that fails.
func envelopeOf(bad *socketmode.ErrorBadMessage) (env struct {
	EnvelopeID string `json:"envelope_id"`
	Type       string `json:"type"`
}) {
	_ = json.Unmarshal(bad.Message, &env)
	return env
}

// fetch asks the vendor, within the command's budget.
func (b *Bot) fetch(work context.Context, j *job) result {
	ctx, cancel := context.WithTimeoutCause(work, b.cfg.CommandTimeout, errCommandTimeout)
	defer cancel()
	rep, err := b.vendor.GenerateTempReport(ctx, j.recordNo)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	return result{report: rep, err: err}
}

// recoverPanic turns a bug into an apology instead of a crash and a person
// left waiting.
func (b *Bot) recoverPanic(j *job) {
	p := recover()
	if p == nil {
		return
	}
	b.log.Error("panic while serving an envelope", "panic", fmt.Sprint(p), "stack", string(debug.Stack()),
		"envelope_id", j.envelopeID, "user", j.user)
	b.conclude(j, result{err: errPanic})
}

// click is what the bot needs from a fresh-link button press.
type click struct {
	user, team, channel, responseURL, value string
}

// parseClick picks the fresh-link press out of an interaction; ok is false
// for anything else (other interactions, link buttons, missing user).
func parseClick(cb slack.InteractionCallback) (c click, ok bool) {
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID == "" {
		return click{}, false
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if a != nil && a.ActionID == freshLinkAction {
			return click{user: cb.User.ID, team: cb.Team.ID, channel: cb.Channel.ID, responseURL: cb.ResponseURL, value: a.Value}, true
		}
	}
	return click{}, false
}
