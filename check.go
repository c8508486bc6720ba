package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/yibeidiao"
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
			return "", slackProblem("SLACK_BOT_TOKEN", err)
		}
		return fmt.Sprintf("workspace %q (%s), bot user %s", r.Team, r.TeamID, r.UserID), nil
	})
	step("Slack app-level token (apps.connections.open, without connecting)", func() (string, error) {
		if _, _, err := api.StartSocketModeContext(ctx); err != nil {
			return "", slackProblem("SLACK_APP_TOKEN", err)
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
			return "", vendorProblem(err)
		}
		return "key, token, signature and clock accepted; balance " + string(msg), nil
	})
	for _, g := range cfg.allowedGroups {
		step("allowed user group "+g+" (usergroups.users.list)", func() (string, error) {
			members, err := api.GetUserGroupMembersContext(ctx, g)
			if err != nil {
				return "", slackProblem("ALLOWED_USERGROUP_IDS", err)
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

// slackProblem explains a Slack Web API error, naming the variable to fix.
func slackProblem(name string, err error) error {
	code := err.Error()
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return fmt.Errorf("the Slack API answered HTTP %d: check SLACK_API_URL (default %s)", sc.Code, bot.DefaultAPIURL)
	}
	switch {
	case slices.Contains([]string{"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}, code):
		return fmt.Errorf("%s was refused by Slack (%s): copy it again from the app's settings; a reinstall makes new bot tokens", name, code)
	case code == "not_allowed_token_type":
		return fmt.Errorf("%s is the wrong kind of token (%s): SLACK_APP_TOKEN is xapp-…, SLACK_BOT_TOKEN is xoxb-…", name, code)
	case code == "missing_scope":
		return fmt.Errorf("the app lacks a scope (%s): give the bot the usergroups:read scope (OAuth & Permissions) and reinstall; the app-level token needs connections:write", code)
	case code == "no_such_subteam":
		return fmt.Errorf("%s: Slack knows no such user group (%s)", name, code)
	case strings.Contains(code, "socket") || code == "invalid_app_level_token":
		return fmt.Errorf("no socket for this app (%s): turn Socket Mode on in the app's settings", code)
	}
	return fmt.Errorf("could not reach Slack at SLACK_API_URL: %w", err)
}

// vendorProblem explains a vendor error in plain words.
func vendorProblem(err error) error {
	if hint := bot.AdminHint(err); hint != "" && !errors.Is(err, yibeidiao.ErrTransient) {
		return fmt.Errorf("%s\n    (%w)", hint, err)
	}
	if errors.Is(err, yibeidiao.ErrTransient) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("could not reach the vendor: check YIBEIDIAO_BASE_URL and the network, or try later if the vendor is down\n    (%w)", err)
	}
	return err
}
