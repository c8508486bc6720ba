package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// Outcome names how an envelope ended, for the audit log and metrics.
type Outcome string

// The outcomes in the audit log.
const (
	OutcomeLink          Outcome = "link"
	OutcomeHelp          Outcome = "help"
	OutcomeBadInput      Outcome = "bad_input"
	OutcomeDenied        Outcome = "denied"
	OutcomeUnconfirmed   Outcome = "unconfirmed" // access comes from a group that cannot be read now
	OutcomeLimited       Outcome = "limited"     // the person's own limit
	OutcomeBusy          Outcome = "busy"        // the vendor budget everyone shares, or too much in flight
	OutcomeRefused       Outcome = "refused"
	OutcomeMisconfigured Outcome = "misconfigured"
	OutcomeTransient     Outcome = "transient"
	OutcomeTimeout       Outcome = "timeout"
	OutcomeUnverifiable  Outcome = "unverifiable"
	OutcomeBadResponse   Outcome = "bad_response"
	OutcomeUntrusted     Outcome = "untrusted_link"
	OutcomeRestarting    Outcome = "restarting"
	OutcomeUnreadable    Outcome = "unreadable"
	OutcomeIgnored       Outcome = "ignored" // events and clicks on other buttons: acked, not answered
	OutcomeInternal      Outcome = "internal_error"
)

// Outcomes lists every outcome, for metrics that start each at zero.
var Outcomes = []Outcome{OutcomeLink, OutcomeHelp, OutcomeBadInput, OutcomeDenied, OutcomeUnconfirmed, OutcomeLimited,
	OutcomeBusy, OutcomeRefused, OutcomeMisconfigured, OutcomeTransient, OutcomeTimeout, OutcomeUnverifiable,
	OutcomeBadResponse, OutcomeUntrusted, OutcomeRestarting, OutcomeUnreadable, OutcomeIgnored, OutcomeInternal, OutcomeChoose}

// Kinds of envelope: the audit line's message and the metrics' kind label.
const (
	KindCommand    = "command"
	KindClick      = "click"
	KindEvent      = "event"      // Events API: the app subscribes to none; acked, not answered
	KindUnreadable = "unreadable" // slack-go could not parse it
)

// level is how loud an outcome's audit line is: info for what people do,
// warn for what the bot or vendor could not help, error for what someone
// must fix.
func (o Outcome) level() slog.Level {
	switch o {
	case OutcomeIgnored:
		return slog.LevelDebug
	case OutcomeLink, OutcomeHelp, OutcomeBadInput, OutcomeDenied, OutcomeLimited, OutcomeRefused, OutcomeChoose:
		return slog.LevelInfo
	case OutcomeMisconfigured, OutcomeUnverifiable, OutcomeBadResponse, OutcomeUntrusted, OutcomeInternal:
		return slog.LevelError
	}
	return slog.LevelWarn
}

// refundable reports whether the person gets their turn back: only when the
// vendor was never reached (the shared budget had no turn, the bot was
// restarting) or the bot itself failed. A vendor that fails or hangs
// after being asked does not give turns back, so a person's limit holds
// whatever the vendor does.
func (o Outcome) refundable() bool {
	switch o {
	case OutcomeBusy, OutcomeRestarting, OutcomeInternal:
		return true
	}
	return false
}

// result is how a job ended: the outcome, and what its answer needs.
// Decisions the bot makes itself are results built where they are made;
// only failures from outside (the vendor, the network, a panic) are
// classified, once, by [classify].
type result struct {
	outcome Outcome
	report  *yibeidiao.TempReport // OutcomeLink
	wait    time.Duration         // OutcomeLimited, OutcomeBusy: until the next turn
	input   *InputError           // OutcomeBadInput: what is wrong with what was typed
	wrong   *WrongCommandError    // OutcomeBadInput: a command this bot does not answer
	records []string              // OutcomeChoose: the records a message names
	err     error                 // the failure from outside, for the log; nil for decisions
}

func decided(o Outcome) result { return result{outcome: o} }

// level is how loud the audit line is: the outcome's level, but a command
// the bot is not configured for is the operator's to fix.
func (r result) level() slog.Level {
	if r.wrong != nil {
		return slog.LevelWarn
	}
	return r.outcome.level()
}

// classify turns what the vendor call returned into a result.
func classify(rep *yibeidiao.TempReport, err error) result {
	var busy *yibeidiao.RateLimitError
	switch kind := yibeidiao.KindOf(err); {
	case err == nil && rep != nil:
		return result{outcome: OutcomeLink, report: rep}
	case err == nil:
		return result{outcome: OutcomeInternal, err: errors.New("bot: vendor returned neither a report nor an error")}
	case errors.Is(err, errShuttingDown):
		return result{outcome: OutcomeRestarting, err: err}
	case errors.As(err, &busy):
		return result{outcome: OutcomeBusy, wait: busy.RetryAfter, err: err}
	case errors.Is(err, errCommandTimeout), errors.Is(err, context.DeadlineExceeded):
		return result{outcome: OutcomeTimeout, err: err}
	case kind == yibeidiao.KindBadSignature:
		return result{outcome: OutcomeUnverifiable, err: err}
	case kind == yibeidiao.KindUntrustedLink:
		return result{outcome: OutcomeUntrusted, err: err}
	case kind == yibeidiao.KindBadResponse:
		return result{outcome: OutcomeBadResponse, err: err}
	case kind == yibeidiao.KindMisconfigured, kind == yibeidiao.KindRedirect:
		return result{outcome: OutcomeMisconfigured, err: err}
	case kind == yibeidiao.KindTransient:
		return result{outcome: OutcomeTransient, err: err}
	case kind == yibeidiao.KindRefused:
		return result{outcome: OutcomeRefused, err: err}
	}
	return result{outcome: OutcomeInternal, err: err}
}

// Errors the bot returns or logs. Callers branch on them with errors.Is or
// errors.As; package main turns them into advice for the operator.
var (
	// ErrSocketRefused means Slack refused to open a socket for good: the
	// app-level token was refused, or the Web API base answered 404. [Bot.Run]
	// returns it, wrapping slack-go's error.
	ErrSocketRefused = errors.New("bot: Slack refused to open a socket")
	// ErrUnreadable means slack-go could not parse an envelope.
	ErrUnreadable = errors.New("bot: unreadable envelope")
)

// WrongCommandError means Slack delivered a slash command the bot was not
// configured to answer.
type WrongCommandError struct{ Got, Want string }

func (e *WrongCommandError) Error() string {
	return fmt.Sprintf("bot: got command %q, configured for %q", e.Got, e.Want)
}

// GroupError means a user group's members could not be read.
type GroupError struct {
	Group string
	Err   error
}

func (e *GroupError) Error() string { return fmt.Sprintf("bot: user group %s: %v", e.Group, e.Err) }
func (e *GroupError) Unwrap() error { return e.Err }

var (
	// errShuttingDown cancels work still running when the drain time is up.
	errShuttingDown = errors.New("bot: shutting down")
	// errCommandTimeout ends a command that took longer than its budget.
	errCommandTimeout = errors.New("bot: command took too long")
)
