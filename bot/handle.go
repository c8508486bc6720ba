package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// job is one command or click on its way to its one answer. It belongs to
// the goroutine serving it.
type job struct {
	kind        string // "command" or "click"
	envelopeID  string
	user        string
	team        string
	channel     string
	recordNo    string
	responseURL string
	replace     bool // a click's new link replaces the message with the button
	start       time.Time
	acked       bool
	answered    bool
}

// ProgressBlockID marks the "getting…" note a command is acked with: the
// answer follows on the command's response URL.
const ProgressBlockID = "progress"

const deniedText = "Sorry, you are not allowed to fetch background-check reports. Ask the bot's admin to add you."

func (b *Bot) serveCommand(work context.Context, envelopeID string, cmd slack.SlashCommand) {
	j := &job{kind: "command", envelopeID: envelopeID, user: cmd.UserID, team: cmd.TeamID, channel: cmd.ChannelID,
		responseURL: cmd.ResponseURL, start: time.Now()}
	defer b.recoverPanic(j)
	recordNo, help, err := ParseCommand(cmd.Text)
	j.recordNo = recordNo
	switch {
	case cmd.Command != b.cfg.Command:
		b.answerAtOnce(j, OutcomeBadInput, slog.LevelWarn, fmt.Errorf("bot: got command %q; SLASH_COMMAND is %q", cmd.Command, b.cfg.Command),
			fmt.Sprintf("This bot answers `%s` only. (If you are its admin: set SLASH_COMMAND to the command in the app's settings.)", b.cfg.Command))
	case b.draining.Load():
		b.answerAtOnce(j, OutcomeRestarting, slog.LevelWarn, nil, "The bot is restarting. Please run the command again in a few seconds.")
	case !b.access.Allowed(j.user):
		b.answerAtOnce(j, OutcomeDenied, slog.LevelInfo, nil, deniedText)
	case help:
		b.answerAtOnce(j, OutcomeHelp, slog.LevelInfo, nil, usage(b.cfg.Command))
	case err != nil:
		text, outcome, level := explain(err, b.cfg.Command, recordNo)
		b.answerAtOnce(j, outcome, level, err, text)
	default:
		if err := b.check(j); err != nil {
			text, outcome, level := explain(err, b.cfg.Command, recordNo)
			b.answerAtOnce(j, outcome, level, err, text)
			return
		}
		note := textMessage(fmt.Sprintf(":hourglass: Getting a temporary report for record %s…", recordNo))
		note.Blocks.BlockSet[0].(*slack.SectionBlock).BlockID = ProgressBlockID
		b.ack(j, note)
		b.fetch(work, j)
	}
}

func (b *Bot) serveClick(work context.Context, envelopeID string, cb slack.InteractionCallback) {
	j := &job{kind: "click", envelopeID: envelopeID, start: time.Now()}
	defer b.recoverPanic(j)
	b.ack(j, nil)
	c, ok := parseClick(cb)
	if !ok {
		b.log.Debug("ignored an interaction that is not a fresh-link click", "envelope_id", envelopeID, "type", cb.Type)
		return
	}
	j.user, j.team, j.channel, j.responseURL = c.user, c.team, c.channel, c.responseURL
	recordNo, help, err := ParseCommand(c.value)
	if err == nil && help {
		err = &InputError{"The button carries no record number."}
	}
	j.recordNo = recordNo
	switch {
	case b.draining.Load():
		b.answer(j, textMessage("The bot is restarting. Please press the button again in a few seconds."), OutcomeRestarting, slog.LevelWarn, nil)
	case !b.access.Allowed(j.user):
		b.answer(j, textMessage(deniedText), OutcomeDenied, slog.LevelInfo, nil)
	case err != nil:
		b.answerError(j, err)
	default:
		if err := b.check(j); err != nil {
			b.answerError(j, err)
			return
		}
		j.replace = true
		b.fetch(work, j)
	}
}

// check applies the per-person limit, which keeps one person from using up
// the vendor budget everyone shares. It never waits.
func (b *Bot) check(j *job) error {
	b.usersMu.Lock()
	lim, ok := b.perUser[j.user]
	if !ok {
		lim = rate.NewLimiter(b.cfg.UserRate, b.cfg.UserBurst)
		b.perUser[j.user] = lim
	}
	b.usersMu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return &busyError{retryAfter: d}
	}
	return nil
}

// fetch asks the vendor, within the command's budget, and answers.
func (b *Bot) fetch(work context.Context, j *job) {
	ctx, cancel := context.WithTimeoutCause(work, b.cfg.CommandTimeout, errCommandTimeout)
	defer cancel()
	rep, err := b.vendor.GenerateTempReport(ctx, j.recordNo)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		b.answerError(j, err)
		return
	}
	msg := reportMessage(j.recordNo, rep, time.Now())
	msg.ReplaceOriginal = j.replace
	b.answer(j, msg, OutcomeLink, slog.LevelInfo, nil, slog.String("seq", rep.Seq))
}

func (b *Bot) answerError(j *job, err error) {
	text, outcome, level := explain(err, b.cfg.Command, j.recordNo)
	b.answer(j, textMessage(text), outcome, level, err)
}

// answerAtOnce answers in the ack itself: the command's one answer.
func (b *Bot) answerAtOnce(j *job, outcome Outcome, level slog.Level, err error, text string) {
	b.ack(j, textMessage(text))
	j.answered = true
	b.audit(j, outcome, level, err, slog.Bool("delivered", j.acked))
}

// answer posts the one answer to the response URL. It runs even when the
// work context is cancelled: an answer must go out, for a bounded time.
func (b *Bot) answer(j *job, msg *slack.WebhookMessage, outcome Outcome, level slog.Level, err error, attrs ...slog.Attr) {
	ctx, cancel := context.WithTimeout(context.Background(), answerTimeout)
	defer cancel()
	j.answered = true
	postErr := b.respond.post(ctx, j.responseURL, msg)
	if postErr != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("delivery_error", postErr.Error()))
	}
	b.audit(j, outcome, level, err, append(attrs, slog.Bool("delivered", postErr == nil))...)
}

// audit writes the one log line of a command or click. It never logs the
// report URL or the response URL: both are credentials.
func (b *Bot) audit(j *job, outcome Outcome, level slog.Level, err error, attrs ...slog.Attr) {
	attrs = append([]slog.Attr{
		slog.String("user", j.user), slog.String("team", j.team), slog.String("channel", j.channel),
		slog.String("record", j.recordNo), slog.String("outcome", string(outcome)),
		slog.Duration("duration", time.Since(j.start)), slog.String("envelope_id", j.envelopeID),
	}, attrs...)
	if apiErr, ok := errors.AsType[*yibeidiao.APIError](err); ok {
		attrs = append(attrs, slog.String("vendor_code", apiErr.Code), slog.String("seq", apiErr.Seq))
	}
	if err != nil && level >= slog.LevelWarn {
		attrs = append(attrs, slog.String("error", err.Error()))
		if hint := AdminHint(err); hint != "" {
			attrs = append(attrs, slog.String("hint", hint))
		}
	}
	b.log.LogAttrs(context.Background(), level, j.kind, attrs...)
}

// ack acknowledges the envelope, with the immediate reply for a command.
func (b *Bot) ack(j *job, msg *slack.WebhookMessage) {
	ctx, cancel := context.WithTimeout(context.Background(), ackTimeout)
	defer cancel()
	var payload any
	if msg != nil {
		payload = msg
	}
	if err := b.sm.AckCtx(ctx, j.envelopeID, payload); err != nil {
		b.log.Error("could not ack; the person will see a Slack error", "envelope_id", j.envelopeID, "user", j.user, "error", err)
		return
	}
	j.acked = true
}

// recoverPanic turns a bug into an apology instead of a crash and a person
// left waiting.
func (b *Bot) recoverPanic(j *job) {
	p := recover()
	if p == nil {
		return
	}
	b.log.Error("panic while serving "+j.kind, "panic", fmt.Sprint(p), "stack", string(debug.Stack()), "envelope_id", j.envelopeID, "user", j.user)
	err := errors.New("bot: panic")
	if !j.acked && j.kind == "command" {
		text, outcome, level := explain(err, b.cfg.Command, j.recordNo)
		b.answerAtOnce(j, outcome, level, err, text)
		return
	}
	if !j.acked {
		b.ack(j, nil)
	}
	if !j.answered && j.responseURL != "" {
		b.answerError(j, err)
	}
}

// ackUnreadable acks an envelope slack-go could not parse, so the person
// gets an apology instead of dispatch_failed.
func (b *Bot) ackUnreadable(ev socketmode.Event) {
	bad, ok := ev.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		b.log.Warn("unreadable message from Slack", "error", bad.Cause)
		return
	}
	j := &job{kind: "unreadable", envelopeID: env.EnvelopeID, start: time.Now()}
	var msg *slack.WebhookMessage
	if env.Type == socketmode.RequestTypeSlashCommands {
		msg = textMessage("Sorry, the bot could not read that command. Please try again.")
	}
	b.ack(j, msg)
	b.audit(j, OutcomeInternal, slog.LevelWarn, bad.Cause, slog.String("envelope_type", env.Type))
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

// refreshGroups re-reads the allowed user groups, keeping the last members
// of any group that cannot be read.
func (b *Bot) refreshGroups(ctx context.Context) {
	if len(b.cfg.AllowedGroups) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n, err := b.access.refresh(ctx)
	if err != nil {
		b.log.Error("could not read allowed user groups; keeping their last known members (check the usergroups:read scope and ALLOWED_USERGROUP_IDS)",
			"error", err, "group_members", n)
		return
	}
	b.log.Info("allowed user groups read", "groups", len(b.cfg.AllowedGroups), "group_members", n)
}

func (b *Bot) refreshGroupsEvery(ctx context.Context) {
	if len(b.cfg.AllowedGroups) == 0 {
		return
	}
	t := time.NewTicker(b.cfg.GroupRefresh)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.refreshGroups(ctx)
		case <-ctx.Done():
			return
		}
	}
}
