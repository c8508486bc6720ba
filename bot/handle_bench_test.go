package bot

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/hr-tools/tempreport/yibeidiao"
)

type blocked struct{}

func (blocked) GenerateTempReport(ctx context.Context, _ string) (*yibeidiao.TempReport, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// BenchmarkHandle is the event loop's own work for one command: recognise a
// redelivery, parse, check the allowlist, take a turn, queue the ack, start
// the goroutine that calls the vendor (which here waits until the end).
//
//	go test ./bot -run '^$' -bench Handle -benchtime 20000x
func BenchmarkHandle(b *testing.B) {
	users := make([]string, b.N)
	for i := range users {
		users[i] = fmt.Sprintf("U%08d", i)
	}
	bot, err := New(blocked{}, Config{AppToken: "xapp-1", BotToken: "xoxb-1", AllowedUsers: users, MaxInFlight: b.N + 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	work, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); bot.wg.Wait() }()
	evs := make([]socketmode.Event, b.N)
	for i := range evs {
		evs[i] = socketmode.Event{Type: socketmode.EventTypeSlashCommand,
			Data:    slack.SlashCommand{Command: "/tempreport", Text: "20190415152645093983751", UserID: users[i], ResponseURL: "https://hooks.slack.com/commands/T1/1/x"},
			Request: &socketmode.Request{EnvelopeID: fmt.Sprintf("env-%d", i)}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bot.handle(work, evs[i])
	}
	b.StopTimer()
}
