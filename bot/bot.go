// Package bot serves the /tempreport slash command over Slack Socket Mode:
// it checks who is asking, limits how fast people and the bot as a whole
// ask the vendor, and answers each command privately, exactly once, with a
// temporary report link or a message saying what went wrong.
package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/yibeidiao"
)

// ReportGenerator makes temporary report links; *yibeidiao.Client is one.
// Its errors are classified with the yibeidiao sentinels.
type ReportGenerator interface {
	GenerateTempReport(ctx context.Context, recordNo string) (*yibeidiao.TempReport, error)
}

// Config is what [New] needs. Zero durations and limits take the defaults
// documented on each field.
type Config struct {
	AppToken       string        // xapp-…, with connections:write
	BotToken       string        // xoxb-…, for usergroups.users.list
	APIURL         string        // Slack Web API base, ending in "/"; default https://slack.com/api/
	Command        string        // default /tempreport
	AllowedUsers   []string      // Slack user IDs
	AllowedGroups  []string      // Slack user group IDs, members re-read every GroupRefresh
	GroupRefresh   time.Duration // default 5m
	GroupMaxStale  time.Duration // a group unread for longer vouches for no one; default 15m
	UserRate       rate.Limit    // turns a person gets back per second; default 20 a minute
	UserBurst      int           // turns a person may take at once; default 10
	CommandTimeout time.Duration // budget of one command: rate-limit wait and vendor call; default 30s
	MaxInFlight    int           // commands waiting on the vendor at once; beyond, "busy"; default 1000
	DrainTimeout   time.Duration // at shutdown, how long commands in flight may still run; default 5s
	HTTPClient     *http.Client  // for Slack's Web API and response URLs; default: 10s timeout
	Language       string        // what people are answered in: one of [Languages], or a tag [Language] reads; default "en"
	Logger         *slog.Logger  // default slog.Default()
	// Observer is told what the bot did, for metrics. Default: nobody.
	Observer Observer
	// Ledger holds the redelivery memory shared between replicas and each
	// person's turns. Default: [NewLocalLedger] with UserRate and UserBurst.
	Ledger Ledger
	// Hint tells the operator, for the audit log, what to fix about an
	// error; "" when there is nothing to fix. Default: no hints.
	Hint func(error) string
}

// Observer is told what the bot did, for metrics. Its methods must be safe
// for concurrent use and return quickly.
type Observer interface {
	// Answered reports how an envelope ended, once per envelope: kind is
	// one of KindCommand, KindClick, KindShortcut, KindEvent and
	// KindUnreadable.
	Answered(kind string, outcome Outcome)
	// Acked reports how long an ack took from the envelope being read to
	// the ack being handed to slack-go. It is called just before the ack is
	// handed over.
	Acked(sinceRead time.Duration)
}

type noObserver struct{}

func (noObserver) Answered(string, Outcome) {}
func (noObserver) Acked(time.Duration)      {}

// Defaults for [Config].
const (
	DefaultAPIURL         = "https://slack.com/api/"
	DefaultCommand        = "/tempreport"
	DefaultGroupRefresh   = 5 * time.Minute
	DefaultGroupMaxStale  = 15 * time.Minute
	DefaultUserRate       = rate.Limit(20.0 / 60)
	DefaultUserBurst      = 10
	DefaultCommandTimeout = 30 * time.Second
	DefaultDrainTimeout   = 5 * time.Second
	DefaultMaxInFlight    = 1000

	ackTimeout    = 3 * time.Second // Slack shows operation_timeout after 3s anyway
	answerTimeout = 3 * time.Second // two tries to post an answer
)

// Bot is the Slack side of the service. Create it with [New], then call
// [Bot.Run] once.
type Bot struct {
	cfg    Config
	vendor ReportGenerator
	log    *slog.Logger
	words  *words
	// progressJSON is the progress note, encoded once: see progressNote.
	progressJSON string
	sm           *socketmode.Client
	access       *access
	postSlots    chan struct{} // one per answer being posted
	acks         *acker
	settler      *settler

	seen  *seenEnvelopes
	debug bool // the logger writes debug lines: only then are they built
	// Only the event loop touches this.
	draining bool

	health   atomic.Pointer[health]
	inFlight atomic.Int64
	wg       sync.WaitGroup // work that waits: vendor calls and posted answers
}

type health struct {
	connected bool
	status    string
}

// New makes a bot that answers with reports from vendor.
func New(vendor ReportGenerator, cfg Config) (*Bot, error) {
	if !strings.HasPrefix(cfg.AppToken, "xapp-") || !strings.HasPrefix(cfg.BotToken, "xoxb-") {
		return nil, errors.New("bot: need an app-level token (xapp-…) and a bot token (xoxb-…)")
	}
	if vendor == nil {
		return nil, errors.New("bot: no report generator")
	}
	cfg.APIURL = cmp.Or(cfg.APIURL, DefaultAPIURL)
	cfg.Command = cmp.Or(cfg.Command, DefaultCommand)
	cfg.GroupRefresh = cmp.Or(cfg.GroupRefresh, DefaultGroupRefresh)
	cfg.GroupMaxStale = cmp.Or(cfg.GroupMaxStale, DefaultGroupMaxStale)
	cfg.UserRate = cmp.Or(cfg.UserRate, DefaultUserRate)
	cfg.UserBurst = cmp.Or(cfg.UserBurst, DefaultUserBurst)
	cfg.CommandTimeout = cmp.Or(cfg.CommandTimeout, DefaultCommandTimeout)
	cfg.DrainTimeout = cmp.Or(cfg.DrainTimeout, DefaultDrainTimeout)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	lang, ok := Language(cmp.Or(cfg.Language, "en"))
	if !ok {
		return nil, fmt.Errorf("bot: no language %q; there are %v", cfg.Language, Languages)
	}
	w := languages[lang]
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Observer == nil {
		cfg.Observer = noObserver{}
	}
	if cfg.Ledger == nil {
		cfg.Ledger = NewLocalLedger(cfg.UserRate, cfg.UserBurst)
	}
	if cfg.Hint == nil {
		cfg.Hint = func(error) string { return "" }
	}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient))
	// slack-go's debug mode stays off: it re-encodes every frame to redact
	// it and would hand payloads to a logger.
	sm := socketmode.New(api)
	b := &Bot{
		cfg:          cfg,
		vendor:       vendor,
		log:          cfg.Logger,
		debug:        cfg.Logger.Enabled(context.Background(), slog.LevelDebug),
		words:        w,
		progressJSON: w.progressTemplate(),
		sm:           sm,
		postSlots:    make(chan struct{}, maxPosts),
		acks:         newAcker(sm, cfg.Logger, cfg.Observer),
		settler:      newSettler(),
		seen:         newSeenEnvelopes(),
		access: newAccess(cfg.AllowedUsers, cfg.AllowedGroups, cfg.GroupMaxStale, func(ctx context.Context, g string) ([]string, error) {
			return api.GetUserGroupMembersContext(ctx, g)
		}),
	}
	b.health.Store(&health{status: "not started"})
	return b, nil
}

// InFlight is how many commands and clicks are waiting on the vendor or on
// their answer's delivery. It is safe to call from any goroutine.
func (b *Bot) InFlight() int64 { return b.inFlight.Load() }

// Health is the bot's state, for a health endpoint.
type Health struct {
	Connected bool   // the Slack socket is up
	Status    string // why not, or "connected"
	// StaleGroups are the allowed user groups that could not be read for
	// longer than GroupMaxStale: their members are denied for now.
	StaleGroups []string
}

// Health reports whether the Slack socket is connected, and if not, why.
// It is safe to call from any goroutine.
func (b *Bot) Health() Health {
	h := b.health.Load()
	return Health{Connected: h.connected, Status: h.status, StaleGroups: b.access.stale(time.Now())}
}

func (b *Bot) setHealth(connected bool, status string) {
	b.health.Store(&health{connected, status})
}

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
	acking, stopAcking := context.WithCancel(context.WithoutCancel(ctx))
	settling, stopSettling := context.WithCancel(context.WithoutCancel(ctx))
	var acker, settler sync.WaitGroup
	acker.Go(func() { b.acks.run(acking) })
	settler.Go(func() { b.runSettler(settling, work) })
	b.log.Info("bot started", "command", b.cfg.Command, "allowed_users", len(b.cfg.AllowedUsers), "allowed_groups", len(b.cfg.AllowedGroups))

	var exitErr error
	socketDone := false
serve:
	for {
		select {
		case ev := <-b.sm.Events:
			b.dispatch(work, ev)
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

	b.draining = true
	if !socketDone {
		b.setHealth(false, "shutting down")
	}
	b.log.Info("shutting down: finishing commands in flight", "in_flight", b.inFlight.Load(), "drain_timeout", b.cfg.DrainTimeout)
	idle := make(chan struct{})
	go func() { b.wg.Wait(); close(idle) }()
	grace := time.NewTimer(b.cfg.DrainTimeout)
	defer grace.Stop()
	var giveUp <-chan time.Time
drain:
	for {
		select {
		case ev := <-b.sm.Events:
			b.dispatch(work, ev)
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
func (b *Bot) dispatch(work context.Context, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI, socketmode.EventTypeErrorBadMessage:
		b.handle(work, ev)
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
			p, _ := b.seen.lookup(e.Response.EnvelopeID)
			b.log.Error("an ack was not written; the person may see a Slack error, and Slack may redeliver the envelope",
				"envelope_id", e.Response.EnvelopeID, "kind", p.kind, "user", p.user, "record", p.recordNo, "error", e.Cause)
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
