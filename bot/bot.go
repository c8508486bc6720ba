// Package bot answers people who ask Slack for a temporary background-check
// report: it checks who is asking, limits how fast people and the bot as a
// whole ask the vendor, and answers each request privately, exactly once,
// with a temporary report link or a message saying what went wrong.
//
// It knows Slack's payloads, not how they arrive: a [Transport] (package
// socket for Socket Mode, package httpmode for HTTP request mode) hands it
// deliveries and writes its acks. One request takes one route, a file per
// step: an entry's reader (surface.go, read_*.go) reads it; the decision
// goroutine (serve.go) decides it (decide.go), claims it with the
// [Ledger] and concludes it: one ack (ack.go), then, for a fetch, the
// vendor call (fetch.go); the answer is rendered (render.go, in the words
// of words.go), delivered by its route (route.go, deliver.go) and audited
// (answer.go).
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/internal/batch"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// ReportGenerator makes temporary report links; *yibeidiao.Client is one.
type ReportGenerator interface {
	GenerateTempReport(ctx context.Context, recordNo string) (*yibeidiao.TempReport, error)
}

// Config is the bot's settings. A zero setting takes its default (see
// defaults.go and [Config.WithDefaults]).
type Config struct {
	BotToken       string        // xoxb-…: user groups, people's languages, answers through the Web API
	APIURL         string        // Slack Web API base, ending in "/"
	Command        string        // the slash command the bot answers
	AllowedUsers   []string      // Slack user IDs
	AllowedGroups  []string      // Slack user group IDs, members re-read every GroupRefresh
	GroupRefresh   time.Duration // how often allowed groups are re-read
	GroupMaxStale  time.Duration // a group unread for longer vouches for no one
	UserRate       rate.Limit    // turns a person gets back per second
	UserBurst      int           // turns a person may take at once
	CommandTimeout time.Duration // budget of one request: rate-limit wait and vendor call
	MaxInFlight    int           // requests waiting on the vendor at once; beyond, "overloaded"
	DrainTimeout   time.Duration // at shutdown, how long requests in flight may still run
	// Language is what people are answered in: one of [Languages], a tag
	// [Language] reads, or [LanguageAuto].
	Language string
	// FallbackLanguage is, with LanguageAuto, the language of people whose
	// Slack language the bot does not speak or could not read, and of
	// people the allowlist does not admit (they are never looked up).
	FallbackLanguage string
	// Contact is who people are sent to for access: in refusals, the form
	// and the App Home. Zero: the bot's admin, in words.
	Contact Contact
	// Surfaces are the ways in the app is set up for in Slack, which the
	// App Home describes. Nil: every one of [Surfaces].
	Surfaces []Surface
	// Version is the bot's version, shown on the App Home (a new one
	// publishes it again).
	Version string
}

// LanguageAuto, as [Config.Language], answers each person the allowlist
// admits in their own Slack language when the bot speaks it (read with
// users.info, scope users:read), and everyone else in FallbackLanguage.
const LanguageAuto = "auto"

// WithDefaults is cfg with each zero setting replaced by its default. [New]
// applies it; a caller that shows the settings first applies it too.
func (cfg Config) WithDefaults() Config {
	orDuration := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	orString := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	orString(&cfg.APIURL, DefaultAPIURL)
	orString(&cfg.Command, DefaultCommand)
	orString(&cfg.Language, DefaultLanguage)
	orString(&cfg.FallbackLanguage, DefaultLanguage)
	orDuration(&cfg.GroupRefresh, DefaultGroupRefresh)
	orDuration(&cfg.GroupMaxStale, DefaultGroupMaxStale)
	orDuration(&cfg.CommandTimeout, DefaultCommandTimeout)
	orDuration(&cfg.DrainTimeout, DefaultDrainTimeout)
	if cfg.Surfaces == nil {
		cfg.Surfaces = Surfaces
	}
	if cfg.UserRate == 0 {
		cfg.UserRate = DefaultUserRate
	}
	if cfg.UserBurst == 0 {
		cfg.UserBurst = DefaultUserBurst
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	return cfg
}

// Deps are what the bot works with besides its settings. Each nil one has
// a working default.
type Deps struct {
	// HTTPClient reaches Slack's Web API and response URLs. Default: a
	// client keeping a connection for each answer that may be posted at
	// once.
	HTTPClient *http.Client
	Logger     *slog.Logger // default slog.Default()
	Observer   Observer     // told what the bot did, for metrics; default nobody
	// Ledger holds the redelivery memory shared between replicas and each
	// person's turns. Default: [NewLocalLedger] with the settings' rates.
	Ledger Ledger
	// Hint tells the operator, for the log, what to fix about an error;
	// "" when there is nothing to fix. Default: no hints.
	Hint func(error) string
}

func (d Deps) withDefaults(cfg Config) Deps {
	if d.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Answers go to one host, up to maxPosts at once: keep a connection
		// for each, or a burst dials (and allocates) one per answer.
		t.MaxIdleConnsPerHost = maxPosts
		d.HTTPClient = &http.Client{Timeout: postClientTimeout, Transport: t}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Observer == nil {
		d.Observer = noObserver{}
	}
	if d.Ledger == nil {
		d.Ledger = NewLocalLedger(cfg.UserRate, cfg.UserBurst)
	}
	if d.Hint == nil {
		d.Hint = func(error) string { return "" }
	}
	return d
}

// Bot decides and answers what a [Transport] hands it. Create it with
// [New], then call [Bot.Run] once.
type Bot struct {
	cfg    Config
	deps   Deps
	vendor ReportGenerator
	log    *slog.Logger
	debug  bool     // the logger writes debug lines: only then are they built
	api    *url.URL // the Web API base: response URLs on its host are Slack's
	slack  *slack.Client
	words  *words // everyone's language, or the fallback language with auto
	// locales is each admitted person's language, with LanguageAuto; nil
	// otherwise.
	locales *locales
	access  *access
	acks    *acks
	seen    *seenDeliveries
	// queue carries requests from the transport to the decision goroutine;
	// Run makes it.
	queue     *batch.Queue[*request]
	posts     chan struct{} // one per answer being posted
	reads     chan struct{} // one per message being read
	said      sync.Map      // what the log has said once: a method Slack refuses for want of a scope
	homes     homes         // what each person's App Home shows
	draining  atomic.Bool   // shutting down: new requests are answered "restarting"
	transport atomic.Pointer[Transport]
	inFlight  atomic.Int64
	follow    *followUps // work that follows acks: vendor calls, answers being delivered
}

// New makes a bot that answers with reports from vendor.
func New(vendor ReportGenerator, cfg Config, deps Deps) (*Bot, error) {
	if !strings.HasPrefix(cfg.BotToken, "xoxb-") {
		return nil, errors.New("bot: need a bot token (xoxb-…)")
	}
	if vendor == nil {
		return nil, errors.New("bot: no report generator")
	}
	cfg = cfg.WithDefaults()
	deps = deps.withDefaults(cfg)
	api, err := url.Parse(cfg.APIURL)
	if err != nil || api.Host == "" {
		return nil, fmt.Errorf("bot: the Web API base is not a URL")
	}
	auto := cfg.Language == LanguageAuto
	lang, ok := Language(cfg.Language)
	if auto {
		lang, ok = Language(cfg.FallbackLanguage)
	}
	if !ok {
		return nil, fmt.Errorf("bot: no language %q (fallback %q); there are %v and %s", cfg.Language, cfg.FallbackLanguage, Languages, LanguageAuto)
	}
	client := slack.New(cfg.BotToken, slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(deps.HTTPClient))
	seen := newSeenDeliveries()
	b := &Bot{
		cfg:    cfg,
		deps:   deps,
		vendor: vendor,
		log:    deps.Logger,
		debug:  deps.Logger.Enabled(context.Background(), slog.LevelDebug),
		api:    api,
		slack:  client,
		words:  catalogues[lang],
		seen:   seen,
		acks:   newAcks(deps.Ledger, deps.Observer, deps.Logger, seen),
		posts:  make(chan struct{}, maxPosts),
		follow: newFollowUps(),
		reads:  make(chan struct{}, maxReads),
		access: newAccess(cfg.AllowedUsers, cfg.AllowedGroups, cfg.GroupMaxStale, func(ctx context.Context, g string) ([]string, error) {
			return client.GetUserGroupMembersContext(ctx, g)
		}),
	}
	if auto {
		b.locales = newLocales(client, lang)
	}
	return b, nil
}

// InFlight is how many requests are waiting on the vendor, or on the
// delivery of the answer the vendor gave. It is safe to call from any
// goroutine.
func (b *Bot) InFlight() int64 { return b.inFlight.Load() }

// Health is the bot's state, for a health endpoint.
type Health struct {
	Ready  bool   // Slack can reach the bot: its transport serves
	Status string // why not, or what the transport says
	// StaleGroups are the allowed user groups that could not be read for
	// longer than GroupMaxStale: their members are denied for now.
	StaleGroups []string
}

// Health reports whether Slack can reach the bot, and if not, why. It is
// safe to call from any goroutine.
func (b *Bot) Health() Health {
	h := Health{Status: "not started", StaleGroups: b.access.stale(time.Now())}
	if t := b.transport.Load(); t != nil {
		h.Ready, h.Status = (*t).Ready()
	}
	if b.draining.Load() {
		h.Ready, h.Status = false, "shutting down"
	}
	return h
}
