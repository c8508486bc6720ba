package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/internal/fixture"
	"github.com/hr-tools/tempreport/internal/testkit"
)

// TestUnknownFlagIsReportedOnce: the flag package prints the error and the
// usage; main adds nothing and exits 2, as flag.ExitOnError would.
func TestUnknownFlagIsReportedOnce(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-bogus") // TestMain runs main with these arguments
	cmd.Env = append(os.Environ(), "TEMPREPORT_TEST_RUN_MAIN=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("tempreport -bogus: %v, want exit status 2", err)
	}
	if n := strings.Count(string(out), "flag provided but not defined: -bogus"); n != 1 || !strings.Contains(string(out), "Usage: tempreport") {
		t.Errorf("tempreport -bogus printed the error %d times, want once with the usage:\n%s", n, out)
	}
}

// TestDemoTranscriptIsWhatAPersonSees: a line the demo does not know is
// not sent to the bot (and a near miss is named), and the bot's log stays
// out of the transcript.
func TestDemoTranscriptIsWhatAPersonSees(t *testing.T) {
	t.Parallel()
	script := "clik\nfoo bar\n/tempreport " + fixture.BrokenRecord + "\n" + readyRecord + "\nquit\n"
	var out, logs bytes.Buffer
	if err := run(t.Context(), []string{"-demo"}, env{}.get, strings.NewReader(script), &out, &logs); err != nil {
		t.Fatalf("-demo: %v", err)
	}
	for _, want := range []string{`"clik" is not something the demo knows, so nothing was sent; did you mean click?`, `"foo" is not something the demo knows`,
		"The vendor is having trouble right now", "Open the report: https://127.0.0.1:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out.String())
		}
	}
	for _, bad := range []string{"A record number has only", "level=", "outcome="} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("the transcript shows %q:\n%s", bad, out.String())
		}
	}
	if !strings.Contains(logs.String(), "outcome=transient") {
		t.Errorf("the bot's log (on stderr when it is not a terminal) lacks the vendor failure:\n%s", logs.String())
	}
}

func TestCheckRefusesAnAppTokenOfTheWrongShape(t *testing.T) {
	t.Parallel()
	for token, ok := range map[string]bool{
		"xapp-1-A0123ABCDEF-1234567890123-0123456789abcdef": true,
		"xapp-fake": false, "xapp-1-A0123ABCDEF": false, "xapp-x-A01-2-abc": false, "xapp-1-a01-2-abc": false, "xapp-1--2-abc": false,
	} {
		if err := appTokenShape(token); (err == nil) != ok {
			t.Errorf("appTokenShape(%q) = %v, want ok=%v", token, err, ok)
		}
	}
	_, _, e := fakesFor(t)
	e["SLACK_APP_TOKEN"] = "xapp-fake"
	var out bytes.Buffer
	err := run(t.Context(), []string{"-check"}, e.get, nil, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(out.String(), "✗ configuration\n    SLACK_APP_TOKEN does not have the shape") || strings.Contains(out.String(), "xapp-fake") {
		t.Errorf("-check with SLACK_APP_TOKEN=xapp-fake = %v:\n%s", err, out.String())
	}
}

// TestCheckSaysNothingWasLearntAboutHTTPS: when the vendor's host cannot
// be reached at all, -check does not advise keeping the http address.
func TestCheckSaysNothingWasLearntAboutHTTPS(t *testing.T) {
	t.Parallel()
	_, _, e := fakesFor(t)
	e["YIBEIDIAO_BASE_URL"] = "http://no-such-host.invalid/open/company"
	cfg, err := loadConfig(e.get)
	if err != nil {
		t.Fatal(err)
	}
	var out testkit.Buffer
	c := &checker{cfg: cfg, out: &out, timeout: 5 * time.Second}
	_ = c.run(t.Context())
	if !strings.Contains(out.String(), "– vendor over https (the same call at https://no-such-host.invalid/open/company): could not connect to the vendor over https (the host name no-such-host.invalid was not found), nor over http: nothing was learnt about https") ||
		strings.Contains(out.String(), "keep the http address") {
		t.Errorf("-check with an unknown vendor host:\n%s", out.String())
	}
}

// TestDemoSpeaksTheChosenLanguage: under BOT_LANGUAGE=zh the demo's own
// banner is Chinese too; help shows commands as Slack does, without
// backticks; under auto the demo person has a Slack language (no warning
// in the log) and one the bot does not speak gets BOT_LANGUAGE_FALLBACK.
func TestDemoSpeaksTheChosenLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		env     env
		want    []string
		notWant []string
	}{
		{"zh", env{"BOT_LANGUAGE": "zh"}, []string{"这是演示", "你是 U0DEMOUSER", "用法：/tempreport 背调号"}, []string{"This is a DEMO", "`"}},
		{"en", env{}, []string{"This is a DEMO", "Usage: /tempreport <record number>, for example /tempreport " + readyRecord}, []string{"`"}},
		{"auto, a language the bot speaks", env{"BOT_LANGUAGE": "auto", "LANG": "zh_CN.UTF-8"},
			[]string{"your Slack language here is zh-CN", "用法"}, nil},
		{"auto, one it does not", env{"BOT_LANGUAGE": "auto", "BOT_LANGUAGE_FALLBACK": "zh", "LANG": "fr_FR.UTF-8"},
			[]string{"your Slack language here is fr-FR", "BOT_LANGUAGE_FALLBACK, zh", "用法"}, []string{"Usage:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, logs bytes.Buffer
			if err := run(t.Context(), []string{"-demo"}, tt.env.get, strings.NewReader("help\nquit\n"), &out, &logs); err != nil {
				t.Fatalf("-demo: %v", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the transcript lacks %q:\n%s", want, out.String())
				}
			}
			for _, bad := range tt.notWant {
				if strings.Contains(out.String(), bad) {
					t.Errorf("the transcript shows %q:\n%s", bad, out.String())
				}
			}
			if strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("the demo's bot warned:\n%s", logs.String())
			}
		})
	}
}

// TestQuotedTokensAreNamedAsSuch: a token kept in quotes, as some .env
// tools write it, is told to lose its quotes, not that its prefix is wrong;
// and the value is never echoed.
func TestQuotedTokensAreNamedAsSuch(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"SLACK_BOT_TOKEN": `"xoxb-1234-QUOTEDSECRET"`,
		"SLACK_APP_TOKEN": `'xapp-1-A0123-4567-QUOTEDSECRET'`,
	} {
		_, _, e := fakesFor(t)
		e[name] = value
		_, err := loadConfig(e.get)
		if err == nil || !strings.Contains(err.Error(), name+": must start with") || !strings.Contains(err.Error(), "remove the quotes or spaces") ||
			strings.Contains(err.Error(), "QUOTEDSECRET") {
			t.Errorf("%s=%s: %v; want a hint about quotes, without the value", name, value, err)
		}
	}
	_, _, e := fakesFor(t)
	e["SLACK_BOT_TOKEN"] = "xoxb-1234-SPACED SECRET"
	if _, err := loadConfig(e.get); err == nil || !strings.Contains(err.Error(), "look for quotes or spaces") || strings.Contains(err.Error(), "SPACED") {
		t.Errorf("a token with a space: %v; want a hint about quotes or spaces, without the value", err)
	}
}

// TestCheckWithoutDotEnvSaysSo: -check in a folder with no .env, and
// nothing set, says that no .env was found and how to start one.
func TestCheckWithoutDotEnvSaysSo(t *testing.T) {
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	err := run(t.Context(), []string{"-check"}, env{}.get, nil, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "No .env file in ") || !strings.Contains(err.Error(), "cp .env.example .env") ||
		!strings.Contains(err.Error(), "SLACK_BOT_TOKEN: missing") {
		t.Errorf("-check with no .env: %v; want the missing variables, that there is no .env, and cp .env.example .env", err)
	}
	if err := os.WriteFile(".env", []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"-check"}, env{}.get, nil, &out, &bytes.Buffer{}); err == nil || strings.Contains(err.Error(), "No .env file") {
		t.Errorf("-check with a .env that sets nothing: %v; want the missing variables only", err)
	}
}

// TestVersionSaysWhyThereIsNoCommit: a binary without a VCS stamp (go run,
// go test) says why on stderr and how to build one that has it; stdout
// stays the one version line.
func TestVersionSaysWhyThereIsNoCommit(t *testing.T) {
	t.Parallel()
	if _, commit := buildVersion(); commit != "unknown" {
		t.Skip("this binary is stamped")
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"-version"}, env{}.get, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "\n") != 1 || !strings.Contains(errOut.String(), "`go run` never stamps one") || !strings.Contains(errOut.String(), "go build") {
		t.Errorf("-version: stdout %q, stderr %q; want one line, and why there is no commit", out.String(), errOut.String())
	}
}
