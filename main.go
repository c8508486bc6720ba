// Command tempreport is a Slack bot that gives HR people a private, one-minute
// link to a temporary background-check report from 易背调 (yibeidiao).
// See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
	"golang.org/x/time/rate"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/replicas"
	"github.com/hr-tools/tempreport/yibeidiao"
)

func main() {
	// A missing .env is fine: the environment may come from elsewhere.
	// godotenv never overrides a variable that is already set.
	_ = godotenv.Load()
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2) // the flag package has said what was wrong, with the usage
		}
		fmt.Fprintln(newScrubber(os.Stderr), "tempreport:", err) // a configuration error may quote a value
		os.Exit(1)
	}
}

// errUsage wraps a flag the flag package refused; it has printed the error
// and the usage already.
var errUsage = errors.New("usage")

// run is the whole program, callable from tests: it parses flags, reads the
// configuration and serves until SIGINT or SIGTERM.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	flags := flag.NewFlagSet("tempreport", flag.ContinueOnError)
	flags.SetOutput(stderr)
	check := flags.Bool("check", false, "check the configuration and credentials with Slack and the vendor, then exit")
	demo := flags.Bool("demo", false, "try the bot with a fake Slack and a fake vendor on this machine; no accounts needed")
	healthcheck := flags.Bool("healthcheck", false, "probe HEALTH_ADDR's /healthz and exit 0 if the bot is connected (for Docker's HEALTHCHECK)")
	showVersion := flags.Bool("version", false, "print the version and exit")
	flags.Usage = func() {
		fmt.Fprint(stderr, "Usage: tempreport [-check | -demo | -healthcheck | -version]\n\n"+
			"Serves the /tempreport Slack command over Socket Mode. Configuration comes from the\n"+
			"environment and from .env in the working directory; see .env.example.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}

	switch {
	case *showVersion:
		printVersion(stdout, stderr)
		return nil
	case *demo:
		settings, err := readDemoSettings(getenv)
		if err != nil {
			return err
		}
		return runDemo(ctx, settings, stdin, stdout, stderr)
	case *healthcheck:
		addr, err := readHealthAddr(getenv)
		if err != nil {
			return err
		}
		return probeHealth(ctx, addr, stdout)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		if *check {
			return withoutDotEnv(err)
		}
		return err
	}
	if *check {
		c := &checker{cfg: cfg, out: newScrubber(stdout, cfg.secrets()...), timeout: checkTimeout}
		return c.run(ctx)
	}
	log := newLogger(stderr, cfg.logLevel, cfg.logFormat, cfg.secrets()...)
	return serve(ctx, cfg, log)
}

// redisPrefix keeps one Slack app's keys apart from another's in a shared
// Redis: "tempreport:" and the app ID, which is the app-level token's third
// part (xapp-1-A0123456789-…); the token's secret part is not used.
func redisPrefix(appToken string) string {
	parts := strings.SplitN(appToken, "-", 4)
	if len(parts) == 4 && parts[2] != "" {
		return "tempreport:" + parts[2] + ":"
	}
	return "tempreport:"
}

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	version, commit := buildVersion()
	settings := cfg.bot.WithDefaults()
	log.Info("starting", "version", version, "commit", commit, "mode", cfg.slack.mode(), "slack_api", redactURL(settings.APIURL), "vendor", redactURL(cfg.vendor.baseURL),
		"link_hosts", cfg.vendor.linkHosts, "vendor_rps", cfg.vendor.rps, "vendor_burst", cfg.vendor.burst,
		"user_rate_per_minute", float64(settings.UserRate)*60, "user_burst", settings.UserBurst, "vendor_timeout", cfg.vendor.timeout,
		"command_timeout", settings.CommandTimeout, "language", settings.Language, "health_addr", cfg.healthAddr,
		"metrics_addr", cfg.metricsAddr, "redis", redactURL(cfg.redisURL))
	if !cfg.vendor.verify {
		log.Warn("YIBEIDIAO_VERIFY_RESPONSE=false: the vendor's answers are not checked for our signature")
	}
	m := newMetrics(cfg.slack.mode())
	limiter := cfg.vendor.limiter()
	ledger := bot.NewLocalLedger(settings.UserRate, settings.UserBurst)
	var redisState func() string
	if cfg.redisURL != "" {
		store, err := replicas.Open(ctx, cfg.redisURL, redisPrefix(cfg.slack.appToken), log)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w\n%s", err, hint(err))
		}
		defer store.Close()
		limiter = store.Limiter(rate.Limit(cfg.vendor.rps), cfg.vendor.burst, limiter)
		ledger = store.Ledger(settings.UserRate, settings.UserBurst, ledger)
		m.watchRedis(store.Up)
		m.watchRedisState(store.State)
		redisState = store.Status
	}
	vendor, err := cfg.vendor.client(limiter, yibeidiao.WithObserver(vendorLog{log, m}))
	if err != nil {
		return err
	}
	settings.Version = version
	b, err := bot.New(vendor, settings, bot.Deps{Logger: log, Observer: m, Ledger: ledger, Hint: hint})
	if err != nil {
		return err
	}
	transport, err := cfg.slack.transport(settings, log, m)
	if err != nil {
		return err
	}
	m.watch(b)
	stopOps, err := serveOps(cfg, b, redisState, m.handler(), log)
	if err != nil {
		return err
	}
	defer stopOps()
	if err := b.Run(ctx, transport); err != nil {
		if h := hint(err); h != "" {
			return fmt.Errorf("%w\n%s", err, h)
		}
		return err
	}
	return nil
}
