// Package bot serves the /tempreport slash command over Slack Socket Mode:
// it checks who is asking, limits how fast people and the bot as a whole
// ask the vendor, and answers each command privately, exactly once, with a
// temporary report link or a message saying what went wrong.
//
// One envelope takes one route, a file per stage: the read loop
// ([Bot.Run], run.go) reads it ([readEnvelope], envelope.go) and queues it;
// the settle goroutine (settle.go) decides it (decide.go), settles it with
// the [Ledger], acks it (ack.go) and, for a fetch, starts the vendor call
// (fetch.go); the answer is rendered (render.go, in the words of words.go),
// delivered and audited (answer.go).
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

	"github.com/hr-tools/tempreport/internal/batch"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// ReportGenerator makes temporary report links; *yibeidiao.Client is one.
// Its errors are read with [yibeidiao.KindOf].
type ReportGenerator interface {
	GenerateTempReport(ctx context.Context, recordNo string) (*yibeidiao.TempReport, error)
}

// Config is what [New] needs. Zero settings take the defaults documented
// on each field (see [Config.WithDefaults]).
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
	HTTPClient     *http.Client  // for Slack's Web API and response URLs; default: 10s timeout, connections kept for every post that may run at once
	Language       string        // what people are answered in: one of [Languages], a tag [Language] reads, or [LanguageAuto]; default "en"
	// FallbackLanguage is, with LanguageAuto, the language of people whose
	// Slack language the bot does not speak or could not read; default "en".
	FallbackLanguage string
	Logger           *slog.Logger // default slog.Default()
	// Observer is told what the bot did, for metrics. Default: nobody.
	Observer Observer
	// Ledger holds the redelivery memory shared between replicas and each
	// person's turns. Default: [NewLocalLedger] with UserRate and UserBurst.
	Ledger Ledger
	// Hint tells the operator, for the audit log, what to fix about an
	// error; "" when there is nothing to fix. Default: no hints.
	Hint func(error) string
}

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
)

// LanguageAuto, as [Config.Language], answers each person in their own
// Slack language when the bot speaks it (read with users.info, scope
// users:read), and in FallbackLanguage otherwise.
const LanguageAuto = "auto"

// maxPosts bounds the answers being posted at once.
const maxPosts = 64

// WithDefaults is cfg with each zero setting replaced by its default (the
// Default constants, and "en"). It is the one place defaults are applied:
// [New] applies it, and a caller that shows or checks the settings before
// New applies it first.
func (cfg Config) WithDefaults() Config {
	set := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.Command == "" {
		cfg.Command = DefaultCommand
	}
	set(&cfg.GroupRefresh, DefaultGroupRefresh)
	set(&cfg.GroupMaxStale, DefaultGroupMaxStale)
	set(&cfg.CommandTimeout, DefaultCommandTimeout)
	set(&cfg.DrainTimeout, DefaultDrainTimeout)
	if cfg.UserRate == 0 {
		cfg.UserRate = DefaultUserRate
	}
	if cfg.UserBurst == 0 {
		cfg.UserBurst = DefaultUserBurst
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Language == "" {
		cfg.Language = "en"
	}
	if cfg.FallbackLanguage == "" {
		cfg.FallbackLanguage = "en"
	}
	return cfg
}

// withDependencies is cfg with what New needs and was not given: an HTTP
// client, a logger, nobody observing, a ledger in memory, no hints.
func (cfg Config) withDependencies() Config {
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Answers go to one host, up to maxPosts at once: keep a connection
		// for each, or a burst dials (and allocates) one per answer.
		t.MaxIdleConnsPerHost = maxPosts
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: t}
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
	return cfg
}

// Bot is the Slack side of the service. Create it with [New], then call
// [Bot.Run] once.
type Bot struct {
	cfg    Config
	vendor ReportGenerator
	log    *slog.Logger
	debug  bool   // the logger writes debug lines: only then are they built
	words  *words // the language everyone is answered in, or the fallback language with auto
	// locales is each person's language, with LanguageAuto; nil otherwise.
	locales *locales
	// progress is each language's progress note as JSON, made once: see
	// progressNote.
	progress map[*words]string
	sm       *socketmode.Client
	access   *access
	acks     *acks
	seen     *seenEnvelopes
	// queue carries envelopes from the read loop to the settle goroutine.
	queue *batch.Queue[*envelope]
	// plans and claims are the settle goroutine's own, reused from batch
	// to batch.
	plans     []plan
	claims    []Claim
	postSlots chan struct{} // one per answer being posted
	draining  atomic.Bool   // shutting down: new envelopes are answered "restarting"

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
	cfg = cfg.WithDefaults().withDependencies()
	auto := cfg.Language == LanguageAuto
	lang, ok := Language(cfg.Language)
	if auto {
		lang, ok = Language(cfg.FallbackLanguage)
	}
	if !ok {
		return nil, fmt.Errorf("bot: no language %q (fallback %q); there are %v and %s", cfg.Language, cfg.FallbackLanguage, Languages, LanguageAuto)
	}
	progress := map[*words]string{}
	for _, w := range languages {
		progress[w] = w.progressTemplate()
	}
	api := slack.New(cfg.BotToken,
		slack.OptionAppLevelToken(cfg.AppToken),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(cfg.HTTPClient))
	// slack-go's debug mode stays off: it re-encodes every frame to redact
	// it and would hand payloads to a logger.
	sm := socketmode.New(api)
	seen := newSeenEnvelopes()
	b := &Bot{
		cfg:       cfg,
		vendor:    vendor,
		log:       cfg.Logger,
		debug:     cfg.Logger.Enabled(context.Background(), slog.LevelDebug),
		words:     languages[lang],
		progress:  progress,
		sm:        sm,
		seen:      seen,
		acks:      newAcks(sm, cfg.Ledger, cfg.Observer, cfg.Logger, seen),
		postSlots: make(chan struct{}, maxPosts),
		access: newAccess(cfg.AllowedUsers, cfg.AllowedGroups, cfg.GroupMaxStale, func(ctx context.Context, g string) ([]string, error) {
			return api.GetUserGroupMembersContext(ctx, g)
		}),
	}
	if auto {
		b.locales = newLocales(api, lang)
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
