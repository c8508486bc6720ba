// Package bot serves the /tempreport slash command over Slack Socket Mode:
// it checks who is asking, limits how fast people and the bot as a whole
// ask the vendor, and answers each command privately, exactly once, with a
// temporary report link or a message saying what went wrong.
package bot

import (
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
	UserRate       rate.Limit    // commands and clicks a person may make per second; default 6 a minute
	UserBurst      int           // how many at once; default 4
	CommandTimeout time.Duration // budget of one command: rate-limit wait and vendor call; default 30s
	DrainTimeout   time.Duration // at shutdown, how long commands in flight may still run; default 5s
	HTTPClient     *http.Client  // for Slack's Web API and response URLs; default: 10s timeout
	Logger         *slog.Logger  // default slog.Default()
}

// Defaults for [Config].
const (
	DefaultAPIURL         = "https://slack.com/api/"
	DefaultCommand        = "/tempreport"
	DefaultGroupRefresh   = 5 * time.Minute
	DefaultCommandTimeout = 30 * time.Second
	DefaultDrainTimeout   = 5 * time.Second

	ackTimeout    = 3 * time.Second // Slack shows operation_timeout after 3s anyway
	answerTimeout = 3 * time.Second // two tries to post an answer
)

// Bot is the Slack side of the service. Create it with [New], then call
// [Bot.Run] once.
type Bot struct {
	cfg     Config
	vendor  ReportGenerator
	log     *slog.Logger
	sm      *socketmode.Client
	access  *access
	respond *responder

	usersMu sync.Mutex
	perUser map[string]*rate.Limiter

	health   atomic.Pointer[health]
	draining atomic.Bool
	inFlight atomic.Int64
	wg       sync.WaitGroup // commands and clicks taken before shutdown
	late     sync.WaitGroup // envelopes refused during shutdown
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
	cfg.APIURL = cmp(cfg.APIURL, DefaultAPIURL)
	cfg.Command = cmp(cfg.Command, DefaultCommand)
	cfg.GroupRefresh = cmp(cfg.GroupRefresh, DefaultGroupRefresh)
	cfg.UserRate = cmp(cfg.UserRate, rate.Every(time.Minute/6))
	cfg.UserBurst = cmp(cfg.UserBurst, 4)
	cfg.CommandTimeout = cmp(cfg.CommandTimeout, DefaultCommandTimeout)
	cfg.DrainTimeout = cmp(cfg.DrainTimeout, DefaultDrainTimeout)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Bot{
		cfg:     cfg,
		vendor:  vendor,
		log:     cfg.Logger,
		respond: &responder{hc: cfg.HTTPClient, retryDelay: 500 * time.Millisecond},
		perUser: map[string]*rate.Limiter{},
	}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient))
	// slack-go's debug mode is off: it re-encodes every frame to redact it
	// (a quarter of the ack path's CPU) and would hand payloads to a logger.
	// The one thing it would tell, the disconnect reason, the dialer reads.
	opts := []socketmode.Option{socketmode.OptionDialer(socketDialer(b.noteDisconnect, nil))}
	b.sm = socketmode.New(api, opts...)
	b.access = newAccess(cfg.AllowedUsers, cfg.AllowedGroups, func(ctx context.Context, g string) ([]string, error) {
		return api.GetUserGroupMembersContext(ctx, g)
	})
	b.health.Store(&health{status: "not started"})
	return b, nil
}

func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Health reports whether the Slack socket is connected, and if not, why.
// It is safe to call from any goroutine.
func (b *Bot) Health() (connected bool, status string) {
	h := b.health.Load()
	return h.connected, h.status
}

func (b *Bot) setHealth(connected bool, status string) {
	b.health.Store(&health{connected, status})
}

// Run connects to Slack and serves commands until ctx is cancelled, then
// stops taking new commands (answering them "restarting"), lets commands in
// flight finish within DrainTimeout, delivers their answers, and returns nil.
// It returns an error early only when Slack refuses the app token or the API
// URL, after answering what is in flight.
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
			exitErr = socketError(err)
			b.setHealth(false, "stopped: "+exitErr.Error())
			b.log.Error("Slack connection stopped for good", "error", exitErr)
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
	b.late.Wait()
	stopSocket()
	bg.Wait()
	b.log.Info("bot stopped")
	return exitErr
}

// socketError explains why slack-go gave up on the socket for good.
func socketError(err error) error {
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok && sc.Code == http.StatusNotFound {
		return fmt.Errorf("bot: Slack API answered 404 to apps.connections.open: check SLACK_API_URL: %w", err)
	}
	return fmt.Errorf("bot: Slack refused the app-level token: check SLACK_APP_TOKEN (xapp-…, with the connections:write scope): %w", err)
}

// dispatch handles one event from slack-go without ever blocking: the loop
// that calls it must keep reading, or slack-go stops acking and reconnecting.
func (b *Bot) dispatch(work context.Context, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		group := &b.wg
		if b.draining.Load() {
			group = &b.late
		}
		group.Go(func() { b.serve(work, ev) })
	case socketmode.EventTypeErrorBadMessage:
		b.late.Go(func() { b.ackUnreadable(ev) })
	case socketmode.EventTypeConnecting:
		if e, ok := ev.Data.(*slack.ConnectingEvent); ok {
			b.log.Info("connecting to Slack", "attempt", e.Attempt, "connection", e.ConnectionCount)
		}
		b.setHealth(false, "connecting")
	case socketmode.EventTypeConnectionError:
		if e, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("could not connect to Slack; retrying", "error", e.ErrorObj, "attempt", e.Attempt, "backoff", e.Backoff)
			b.setHealth(false, "connection error: "+e.Error())
		}
	case socketmode.EventTypeConnected:
		b.log.Info("connected to Slack")
		b.setHealth(true, "connected")
	case socketmode.EventTypeHello:
		n := ev.Request.NumConnections
		b.log.Info("Slack said hello", "num_connections", n,
			"note", "num_connections counts this app's open sockets; more than the replicas you run means another copy (a laptop?) shares SLACK_APP_TOKEN and takes a share of the commands")
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("Slack refused the app-level token: check SLACK_APP_TOKEN")
	case socketmode.EventTypeIncomingError:
		if e, ok := ev.Data.(*slack.IncomingEventError); ok {
			b.log.Warn("error reading from the Slack socket", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok {
			b.log.Error("an ack could not be sent; the person may see a Slack error", "envelope_id", e.Response.EnvelopeID, "error", e.Cause)
		}
	}
}

// serve handles one envelope. It acks before anything that can wait.
func (b *Bot) serve(work context.Context, ev socketmode.Event) {
	b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	switch data := ev.Data.(type) {
	case slack.SlashCommand:
		b.serveCommand(work, ev.Request.EnvelopeID, data)
	case slack.InteractionCallback:
		b.serveClick(work, ev.Request.EnvelopeID, data)
	default: // events: the app subscribes to none, but an unacked one is retried
		b.ack(&job{envelopeID: ev.Request.EnvelopeID}, nil)
	}
}
