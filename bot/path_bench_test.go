package bot_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/bot/socket"
	"github.com/hr-tools/tempreport/yibeidiao"
)

// instantVendor answers every record at once, in process: the benchmark
// measures the bot, not a vendor's HTTP.
type instantVendor struct{}

func (instantVendor) GenerateTempReport(context.Context, string) (*yibeidiao.TempReport, error) {
	return &yibeidiao.TempReport{URL: "https://vendor.example/survey-result/x", ExpiresAt: time.Now().Add(time.Minute), Seq: "seq-1"}, nil
}

// BenchmarkCommandPath is one command's whole path through the real bot:
// the envelope read off a real websocket, decided, settled, acked, the
// report fetched, the answer rendered and posted to its response URL, and
// the audit line written (info level). Commands go in bursts of 100 from
// 100 people. allocs/op and B/op include the fake Slack's share, which does
// not change when the bot does: compare them before and after a change.
//
//	go test ./bot -run '^$' -bench CommandPath -benchtime 3000x
func BenchmarkCommandPath(b *testing.B) {
	slack := slacktest.NewServer()
	defer slack.Close()
	const burst = 100
	users, cmds := slacktest.Crowd(burst, "20190415152645093983751")
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	bt, err := bot.New(instantVendor{}, bot.Config{
		BotToken: slack.BotToken, APIURL: slack.APIURL,
		AllowedUsers: users, UserRate: 1e6, UserBurst: 1e6,
	}, bot.Deps{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	sock, err := socket.New(socket.Config{AppToken: slack.AppToken, APIURL: slack.APIURL, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bt.Run(ctx, sock) }()
	defer func() { cancel(); <-done }()
	wait, stop := context.WithTimeout(context.Background(), time.Minute)
	defer stop()
	if err := slack.WaitConnected(wait); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += burst {
		envs, err := slack.SendCommands(wait, cmds[:min(burst, b.N-sent)])
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range envs {
			if _, err := e.WaitPosts(wait, 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
}
