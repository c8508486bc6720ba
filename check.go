package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot"
)

// runCheck is -check: it proves each credential with a harmless call and
// prints a report in plain words. It returns an error if any check failed.
func runCheck(ctx context.Context, cfg config, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fmt.Fprintln(stdout, "✓ configuration: every variable is set and well-formed")
	api := slack.New(cfg.slackBotToken,
		slack.OptionAppLevelToken(cfg.slackAppToken),
		slack.OptionAPIURL(cfg.slackAPIURL),
		slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	checks, failed := 0, 0
	step := func(name string, f func() (string, error)) {
		checks++
		detail, err := f()
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "✗ %s\n    %v\n", name, err)
			return
		}
		fmt.Fprintf(stdout, "✓ %s: %s\n", name, detail)
	}

	step("Slack bot token (auth.test)", func() (string, error) {
		r, err := api.AuthTestContext(ctx)
		if err != nil {
			return "", problem(err)
		}
		return fmt.Sprintf("workspace %q (%s), bot user %s", r.Team, r.TeamID, r.UserID), nil
	})
	step("Slack app-level token (apps.connections.open, without connecting)", func() (string, error) {
		if _, _, err := api.StartSocketModeContext(ctx); err != nil {
			return "", problem(fmt.Errorf("%w: %w", bot.ErrSocketRefused, err))
		}
		return "Socket Mode is on and the token may open a socket", nil
	})
	step("vendor credentials (signed GET /balance at "+cfg.vendorBaseURL+")", func() (string, error) {
		vendor, err := newVendor(cfg, nil)
		if err != nil {
			return "", err
		}
		msg, err := vendor.Balance(ctx)
		if err != nil {
			return "", problem(err)
		}
		return "key, token, signature and clock accepted; balance " + string(msg), nil
	})
	for _, g := range cfg.allowedGroups {
		step("allowed user group "+g+" (usergroups.users.list)", func() (string, error) {
			members, err := api.GetUserGroupMembersContext(ctx, g)
			if err != nil {
				return "", problem(&bot.GroupError{Group: g, Err: err})
			}
			return fmt.Sprintf("%d members", len(members)), nil
		})
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed; fix them and run -check again", failed, checks)
	}
	fmt.Fprintf(stdout, "All %d checks passed. %d allowed users, %d allowed groups. Start the bot with `go run .` or `docker run --env-file .env …`.\n",
		checks, len(cfg.allowedUsers), len(cfg.allowedGroups))
	return nil
}

// problem is a failed check in plain words: the operator's hint, then the
// error itself.
func problem(err error) error {
	if h := hint(err); h != "" {
		return fmt.Errorf("%s\n    (%w)", h, err)
	}
	return err
}
