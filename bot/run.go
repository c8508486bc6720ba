package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hr-tools/tempreport/internal/batch"
)

// Run serves what t brings until ctx is cancelled, then stops taking new
// requests (answering them "restarting"), lets requests in flight finish
// within DrainTimeout, delivers their answers, stops t and returns nil. It
// returns t's error early when t can never serve, after answering what is
// in flight.
func (b *Bot) Run(ctx context.Context, t Transport) error {
	// work is the context of vendor calls: cancelled, with errShuttingDown,
	// when the drain time is up.
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	// The transport outlives ctx while in-flight work drains, to keep acking.
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	deciding, stopDeciding := context.WithCancel(context.WithoutCancel(ctx))
	acking, stopAcking := context.WithCancel(context.WithoutCancel(ctx))

	b.queue = batch.New(0, func(reqs []*request) { b.serve(work, reqs) })
	b.transport.Store(&t)
	b.refreshGroups(ctx)
	var decider, acker, bg sync.WaitGroup
	decider.Go(func() { b.queue.Run(deciding) })
	acker.Go(func() { b.acks.run(acking) })
	serveErr := make(chan error, 1)
	bg.Go(func() { serveErr <- t.Serve(serving, b) })
	bg.Go(func() { b.refreshGroupsEvery(serving) })
	bg.Go(func() { b.trimEvery(serving) })
	b.log.Info("bot started", "command", b.cfg.Command, "allowed_users", len(b.cfg.AllowedUsers), "allowed_groups", len(b.cfg.AllowedGroups))

	var exitErr error
	select {
	case exitErr = <-serveErr:
		if exitErr == nil {
			exitErr = errors.New("bot: the transport stopped serving")
		}
		b.log.Error("stopped serving Slack for good", "error", exitErr, "hint", b.deps.Hint(exitErr))
	case <-ctx.Done():
	}

	b.draining.Store(true)
	b.log.Info("shutting down: finishing requests in flight", "in_flight", b.inFlight.Load(), "drain_timeout", b.cfg.DrainTimeout)
	idle := make(chan struct{})
	go func() { b.queue.Wait(); b.follow.Wait(); b.acks.wait(); close(idle) }()
	grace := time.NewTimer(b.cfg.DrainTimeout)
	defer grace.Stop()
	var giveUp <-chan time.Time
drain:
	for {
		select {
		case <-idle:
			break drain
		case <-grace.C:
			b.log.Warn("drain time is up: cancelling requests in flight; their askers are told to retry", "in_flight", b.inFlight.Load())
			stopWork(errShuttingDown)
			giveUp = time.After(answerTimeout + time.Second)
		case <-giveUp:
			b.log.Error("gave up waiting for requests in flight", "in_flight", b.inFlight.Load())
			break drain
		}
	}
	// The transport hands over nothing more; what it handed over while it
	// stopped is decided, followed up and acked; then it closes.
	stopServing()
	bg.Wait()
	stopDeciding()
	decider.Wait()
	followed := make(chan struct{})
	go func() { b.follow.Wait(); close(followed) }()
	select {
	case <-followed:
	case <-time.After(answerTimeout + time.Second): // what hangs past the drain was given up above
	}
	stopAcking()
	acker.Wait()
	t.Close()
	b.log.Info("bot stopped")
	return exitErr
}

// refreshGroups re-reads the allowed user groups. It logs a group once when
// it starts failing, once when it has failed for longer than GroupMaxStale
// (its members are denied from then on), and once when it recovers.
func (b *Bot) refreshGroups(ctx context.Context) {
	if len(b.cfg.AllowedGroups) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, groupReadTimeout)
	defer cancel()
	changes, members := b.access.refresh(ctx, time.Now())
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	for _, c := range changes {
		switch c.change {
		case groupFailing:
			b.log.Warn("could not read an allowed user group; keeping its last known members for now",
				"group", c.group, "max_stale", b.cfg.GroupMaxStale, "error", c.err, "hint", b.deps.Hint(c.err))
		case groupStale:
			b.log.Error("an allowed user group cannot be read: its members are denied until it can be read (people in the allowed user IDs still work)",
				"group", c.group, "max_stale", b.cfg.GroupMaxStale, "error", c.err, "hint", b.deps.Hint(c.err))
		case groupRecovered:
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
func (b *Bot) trimEvery(ctx context.Context) {
	t := time.NewTicker(trimEvery)
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
