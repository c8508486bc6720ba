package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/hr-tools/tempreport/internal/batch"
)

// ErrSocketRefused means Slack refused to open a socket for good: the
// app-level token was refused, or the Web API base answered 404. [Bot.Run]
// returns it, wrapping slack-go's error.
var ErrSocketRefused = errors.New("bot: Slack refused to open a socket")

// Run connects to Slack and serves commands until ctx is cancelled, then
// stops taking new commands (answering them "restarting"), lets commands in
// flight finish within DrainTimeout, delivers their answers, and returns nil.
// It returns an error matching [ErrSocketRefused] early when Slack refuses
// the app token or the API URL, after answering what is in flight.
func (b *Bot) Run(ctx context.Context) error {
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	// The socket outlives ctx while in-flight work drains, to keep acking.
	sock, stopSocket := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSocket()

	b.refreshGroups(ctx)
	var bg sync.WaitGroup
	runErr := make(chan error, 1)
	bg.Go(func() { runErr <- b.sm.RunContext(sock) })
	bg.Go(func() { b.refreshGroupsEvery(sock) })
	bg.Go(func() { b.trimEvery(sock, time.Minute) })
	b.queue = batch.New(0, func(envs []*envelope) { b.settle(work, envs) })
	settling, stopSettling := context.WithCancel(context.WithoutCancel(ctx))
	acking, stopAcking := context.WithCancel(context.WithoutCancel(ctx))
	var settler, acker sync.WaitGroup
	settler.Go(func() { b.queue.Run(settling) })
	acker.Go(func() { b.acks.run(acking) })
	b.log.Info("bot started", "command", b.cfg.Command, "allowed_users", len(b.cfg.AllowedUsers), "allowed_groups", len(b.cfg.AllowedGroups))

	var exitErr error
	socketDone := false
serve:
	for {
		select {
		case ev := <-b.sm.Events:
			b.dispatch(ev)
		case err := <-runErr:
			socketDone = true
			exitErr = fmt.Errorf("%w: %w", ErrSocketRefused, err)
			b.setHealth(false, "stopped: "+exitErr.Error())
			b.log.Error("Slack connection stopped for good", "error", exitErr, "hint", b.cfg.Hint(exitErr))
			break serve
		case <-ctx.Done():
			break serve
		}
	}

	b.draining.Store(true)
	if !socketDone {
		b.setHealth(false, "shutting down")
	}
	b.log.Info("shutting down: finishing commands in flight", "in_flight", b.inFlight.Load(), "drain_timeout", b.cfg.DrainTimeout)
	idle := make(chan struct{})
	go func() { b.queue.Wait(); b.wg.Wait(); b.acks.wait(); close(idle) }()
	grace := time.NewTimer(b.cfg.DrainTimeout)
	defer grace.Stop()
	var giveUp <-chan time.Time
drain:
	for {
		select {
		case ev := <-b.sm.Events:
			b.dispatch(ev)
		case <-idle:
			break drain
		case <-grace.C:
			b.log.Warn("drain time is up: cancelling commands in flight; their askers are told to retry", "in_flight", b.inFlight.Load())
			stopWork(errShuttingDown)
			giveUp = time.After(answerTimeout + time.Second)
		case <-giveUp:
			b.log.Error("gave up waiting for commands in flight", "in_flight", b.inFlight.Load())
			break drain
		}
	}
	stopSettling()
	settler.Wait()
	stopAcking()
	acker.Wait()
	stopSocket()
	bg.Wait()
	b.log.Info("bot stopped")
	return exitErr
}

// dispatch handles one event from slack-go without ever blocking: the loop
// that calls it must keep reading, or slack-go stops acking and reconnecting.
// An envelope is read and queued for the settle goroutine, in the order
// Slack sent it.
func (b *Bot) dispatch(ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI, socketmode.EventTypeErrorBadMessage:
		env := readEnvelope(ev, b.cfg.Command, time.Now())
		if env.id == "" {
			b.log.Warn("a message from Slack without an envelope ID: nothing to ack", "type", ev.Type)
			return
		}
		b.queue.Push(&env)
	case socketmode.EventTypeConnecting:
		if e, ok := ev.Data.(*slack.ConnectingEvent); ok && e.ConnectionCount > 0 && e.Attempt == 1 {
			b.log.Info("reconnecting to Slack", "connection", e.ConnectionCount)
		}
		b.setHealth(false, "connecting")
	case socketmode.EventTypeConnectionError:
		if e, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("could not connect to Slack; retrying", "error", e.ErrorObj, "attempt", e.Attempt, "backoff", e.Backoff)
			b.setHealth(false, "connection error: "+e.Error())
		}
	case socketmode.EventTypeConnected:
		b.setHealth(true, "connected")
		b.log.Info("connected to Slack")
	case socketmode.EventTypeHello:
		if n := ev.Request.NumConnections; n > 1 {
			b.log.Info("Slack said hello", "num_connections", n,
				"note", "num_connections counts this app's open sockets; more than the replicas you run means another copy (a laptop?) uses the same app-level token and takes a share of the commands")
		}
	case socketmode.EventTypeIncomingError:
		if e, ok := ev.Data.(*slack.IncomingEventError); ok {
			b.log.Warn("error reading from the Slack socket", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok {
			key := keyOf(e.Response.EnvelopeID)
			kind, user := b.seen.lookup(key)
			b.log.Error("an ack was not written; the person may see a Slack error, and Slack may redeliver the envelope",
				"envelope_id", key, "kind", kind, "user", user, "error", e.Cause)
		}
	}
}

// refreshGroups re-reads the allowed user groups. It logs a group once when
// it starts failing, once when it has failed for longer than GroupMaxStale
// (its members are denied from then on), and once when it recovers.
func (b *Bot) refreshGroups(ctx context.Context) {
	if len(b.cfg.AllowedGroups) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	changes, members := b.access.refresh(ctx, time.Now())
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	for _, c := range changes {
		switch c.kind {
		case "failing":
			b.log.Warn("could not read an allowed user group; keeping its last known members for now",
				"group", c.group, "max_stale", b.cfg.GroupMaxStale, "error", c.err, "hint", b.cfg.Hint(c.err))
		case "stale":
			b.log.Error("an allowed user group cannot be read: its members are denied until it can be read (people in the allowed user IDs still work)",
				"group", c.group, "max_stale", b.cfg.GroupMaxStale, "error", c.err, "hint", b.cfg.Hint(c.err))
		case "recovered":
			b.log.Info("an allowed user group can be read again: its members are allowed again", "group", c.group, "group_members", members)
		}
	}
	b.log.Debug("allowed user groups read", "groups", len(b.cfg.AllowedGroups), "group_members", members)
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

// trimEvery drops old redelivery memory every so often, flood or not.
func (b *Bot) trimEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			b.seen.trim(now)
		case <-ctx.Done():
			return
		}
	}
}
