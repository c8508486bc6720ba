package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// job is one envelope on its way to its one answer. The loop fills it in;
// after the ack, only the goroutine serving it touches it.
type job struct {
	kind        string // KindCommand, KindClick, KindShortcut, KindEvent or KindUnreadable: the audit line's message
	envelopeID  string
	user        string
	team        string
	channel     string
	recordNo    string
	found       []string // a shortcut's records, for the audit line
	responseURL string
	inAck       bool      // the ack can carry the answer: slash commands
	replace     bool      // a click's new link replaces the message with the button
	read        time.Time // when the loop read the envelope
	tookTurn    bool      // took a turn from the person's limit
	acked       bool
}

// handle starts one envelope on its way, in the order Slack sent them: it
// recognises a redelivery it has seen, and decides what it can alone. The
// ledger's part (a redelivery another replica saw, the person's turn) and
// the ack follow in [Bot.settle]. It never blocks.
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

// decide reads the envelope into j and says how it ends without the
// vendor, or fetch to ask the vendor if the person has a turn left. It runs
// in the loop and never waits.
func (b *Bot) decide(j *job, ev socketmode.Event) (res result, fetch bool) {
	var (
		recordNo string
		help     bool
		input    *InputError
	)
	switch data := ev.Data.(type) {
	case slack.SlashCommand:
		j.kind, j.inAck, j.user, j.team, j.channel, j.responseURL = KindCommand, true, data.UserID, data.TeamID, data.ChannelID, data.ResponseURL
		if data.Command != b.cfg.Command {
			wrong := &WrongCommandError{Got: data.Command, Want: b.cfg.Command}
			return result{outcome: OutcomeBadInput, wrong: wrong, err: wrong}, false
		}
		recordNo, help, input = parseCommand(data.Text)
	case slack.InteractionCallback:
		switch it := parseInteraction(data); it.kind {
		case KindClick:
			// A fresh link replaces the message it was asked from; a pick from
			// a shortcut's list leaves the list for the other records.
			j.kind, j.user, j.team, j.channel, j.responseURL, j.replace = KindClick, it.user, it.team, it.channel, it.responseURL, it.block == freshLinkAction
			recordNo, help, input = parseCommand(it.value)
			if input == nil && help { // a button always carries a record number
				help, input = false, &InputError{Problem: NoRecordData}
			}
		case KindShortcut:
			j.kind, j.user, j.team, j.channel, j.responseURL = KindShortcut, it.user, it.team, it.channel, it.responseURL
			j.found = FindRecords(it.value)
			switch len(j.found) {
			case 0:
				input = &InputError{Problem: NoRecordInMessage}
			case 1:
				recordNo = j.found[0]
			}
		default:
			j.kind = KindClick
			return decided(OutcomeIgnored), false
		}
	case *socketmode.ErrorBadMessage:
		return b.unreadable(j, data), false
	default: // events: the app subscribes to none, but an unacked one is retried
		j.kind = KindEvent
		return decided(OutcomeIgnored), false
	}
	j.recordNo = recordNo
	verdict := b.access.check(j.user, j.read)
	switch {
	case b.draining:
		return decided(OutcomeRestarting), false
	case verdict == denied:
		return decided(OutcomeDenied), false
	case verdict == unconfirmed:
		return decided(OutcomeUnconfirmed), false
	case help:
		return decided(OutcomeHelp), false
	case input != nil:
		return result{outcome: OutcomeBadInput, input: input}, false
	case !usableResponseURL(j.responseURL):
		// The answer would go to the response URL, and there is none to go
		// to: no vendor turn is spent on an answer nobody can get. A
		// command is told in its ack; anything else cannot be answered.
		b.log.Warn("an envelope without a usable response URL: not served", "kind", j.kind, "envelope_id", j.envelopeID, "user", j.user)
		if j.inAck {
			return result{outcome: OutcomeUnreadable, err: errNoResponseURL}, false
		}
		return decided(OutcomeIgnored), false
	case len(j.found) > 1:
		return result{outcome: OutcomeChoose, records: j.found}, false
	}
	return result{}, true
}

// settle ends what the loop decided, once the ledger has claimed the
// envelope and, for a fetch, taken a turn. It runs in the loop (one
// replica) or in the settler (a shared ledger), in arrival order either
// way, and never waits on the network.
func (b *Bot) settle(work context.Context, x settling, s Settlement) {
	j := x.job
	defer b.recoverPanic(j)
	if b.debug {
		b.log.Debug("decided", "envelope_id", j.envelopeID, "kind", j.kind, "user", j.user, "record", j.recordNo,
			"outcome", cmp.Or(x.res.outcome, "fetch"), "taken_by_another_replica", s.Taken, "turn_wait", s.Wait)
	}
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
		b.ack(j, payload) // remembered here too: a further redelivery is acked again
		return
	case !x.fetch:
		b.conclude(j, x.res)
		return
	case s.Wait > 0:
		b.conclude(j, result{outcome: OutcomeLimited, wait: s.Wait})
		return
	}
	j.tookTurn = true
	if max := b.cfg.MaxInFlight; max > 0 && b.inFlight.Load() >= int64(max) {
		b.log.Warn("too many commands in flight: answering busy", "in_flight", b.inFlight.Load(), "max_in_flight", max)
		b.conclude(j, result{outcome: OutcomeBusy, wait: time.Second})
		return
	}
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

// unreadable reads what it can of an envelope slack-go could not parse, so a
// command gets an apology instead of Slack's dispatch_failed.
func (b *Bot) unreadable(j *job, bad *socketmode.ErrorBadMessage) result {
	env := envelopeOf(bad)
	j.kind = KindUnreadable
	if env.Type == socketmode.RequestTypeSlashCommands {
		j.inAck = true
	}
	return result{outcome: OutcomeUnreadable, err: fmt.Errorf("%w (%s): %w", ErrUnreadable, env.Type, bad.Cause)}
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
	start := time.Now()
	rep, err := b.vendor.GenerateTempReport(ctx, j.recordNo)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
	}
	res := classify(rep, err)
	if b.debug {
		b.log.Debug("vendor call ended", "envelope_id", j.envelopeID, "record", j.recordNo, "outcome", res.outcome, "took", time.Since(start))
	}
	return res
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
	b.conclude(j, result{outcome: OutcomeInternal, err: fmt.Errorf("bot: panic: %v", p)})
}

// interaction is what the bot needs from a button press or a message
// shortcut; kind is "" for any other interaction.
type interaction struct {
	kind                                    string // KindClick or KindShortcut
	user, team, channel, responseURL, value string // value: a click's record number, a shortcut's message text
	block                                   string // a click's block_id
}

// parseInteraction picks the fresh-link press or the message shortcut out
// of an interaction; anything else (other interactions, link buttons, a
// missing user) has no kind.
func parseInteraction(cb slack.InteractionCallback) interaction {
	if cb.User.ID == "" {
		return interaction{}
	}
	it := interaction{user: cb.User.ID, team: cb.Team.ID, channel: cb.Channel.ID, responseURL: cb.ResponseURL}
	switch {
	case cb.Type == slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if a != nil && (a.ActionID == freshLinkAction || strings.HasPrefix(a.ActionID, freshLinkAction+"_")) {
				it.kind, it.value, it.block = KindClick, a.Value, a.BlockID
				return it
			}
		}
	case cb.Type == slack.InteractionTypeMessageAction && cb.CallbackID == ShortcutCallbackID:
		it.kind, it.value = KindShortcut, messageText(cb.Message)
		return it
	}
	return interaction{}
}
