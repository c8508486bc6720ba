package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/hr-tools/tempreport/bot"
	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/internal/fixture"
)

// The demo's person and records.
const (
	demoUser          = "U0DEMOUSER"
	demoReady         = fixture.ReadyRecord
	demoNotInProgress = fixture.NotInProgressRecord
	demoBroken        = fixture.BrokenRecord
)

// demoSettings are what -demo reads from the environment: the language
// settings, as the bot reads them, and the demo person's Slack language.
type demoSettings struct {
	language, fallback string
	// locale is the demo person's Slack language for BOT_LANGUAGE=auto:
	// the terminal's (LC_ALL, LANG: zh_CN.UTF-8 is zh-CN), or en-US.
	locale string
}

// readDemoSettings reads BOT_LANGUAGE and BOT_LANGUAGE_FALLBACK by the
// same rules as loadConfig, and the terminal's language.
func readDemoSettings(getenv func(string) string) (demoSettings, error) {
	r := &reader{getenv: getenv}
	d := demoSettings{language: r.language(), fallback: r.fallbackLanguage(), locale: "en-US"}
	for _, name := range []string{"LC_ALL", "LANG"} {
		lang, _, _ := strings.Cut(getenv(name), ".")
		if lang != "" && lang != "C" && lang != "POSIX" {
			d.locale = strings.ReplaceAll(lang, "_", "-")
			break
		}
	}
	return d, r.err()
}

// runDemo is -demo: the real program, configured to talk to a fake Slack
// and a fake vendor on 127.0.0.1, driven by lines typed (or piped) on
// stdin. BOT_LANGUAGE and BOT_LANGUAGE_FALLBACK, if set, pick the
// language; with auto, the demo person's Slack language is the terminal's.
func runDemo(ctx context.Context, ds demoSettings, stdin io.Reader, stdout, stderr io.Writer) error {
	fakes := fixture.Start()
	defer fakes.Close()
	fakes.Slack.SetLocale(demoUser, ds.locale)
	env := fakes.Env(demoUser)
	env["BOT_LANGUAGE"], env["BOT_LANGUAGE_FALLBACK"] = ds.language, ds.fallback
	cfg, err := loadConfig(func(name string) string { return env[name] })
	if err != nil {
		return err
	}
	// The transcript on stdout is what a person sees in Slack. The bot's own
	// log would interleave with it on a terminal, so there it goes to a
	// file, removed when the demo ends (redirect stderr to keep it).
	logOut, logNote := io.Writer(stderr), ""
	if isTerminal(stderr) {
		if f, err := os.CreateTemp("", "tempreport-demo-*.log"); err == nil {
			defer os.Remove(f.Name())
			defer f.Close()
			logOut, logNote = f, fmt.Sprintf(words(cfg.bot.Language).logNote, f.Name())
		}
	}
	log := newLogger(logOut, slog.LevelInfo, "text", cfg.secrets()...)
	botCtx, stopBot := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- serve(botCtx, cfg, log) }()
	defer func() { stopBot(); <-done }()

	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := fakes.Slack.WaitConnected(wait); err != nil {
		return fmt.Errorf("demo: the bot did not connect to the fake Slack: %w", err)
	}

	w := words(cfg.bot.Language)
	fmt.Fprintf(stdout, w.banner, demoUser, demoReady, demoNotInProgress, demoBroken, demoReady, demoReady, demoReady, demoReady)
	if cfg.bot.Language == bot.LanguageAuto {
		fmt.Fprintf(stdout, w.auto, ds.locale, cmp.Or(cfg.bot.FallbackLanguage, bot.DefaultLanguage))
	}
	fmt.Fprint(stdout, logNote)

	d := &demo{say: w, slack: fakes.Slack, out: stdout}
	interactive := isTerminal(stdin)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-botCtx.Done():
				return
			}
		}
	}()
	for {
		if interactive {
			fmt.Fprint(stdout, "> ")
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout)
			return nil
		case line, ok := <-lines:
			line = strings.TrimSpace(line)
			if !ok || line == "quit" || line == "exit" {
				return nil
			}
			if !interactive {
				fmt.Fprintf(stdout, "> %s\n", line)
			}
			if line == "" {
				continue
			}
			if err := d.do(ctx, line); err != nil {
				fmt.Fprintf(stdout, "(demo: %v)\n", err)
			}
		}
	}
}

// demo plays one person in the fake Slack.
type demo struct {
	say     demoWordsByLanguage
	slack   *slacktest.Server
	out     io.Writer
	buttons []slacktest.Button // of the bot's last message or form
	view    string             // the form last shown, if its buttons are the last shown
	events  int                // events sent: each has an event_id of its own
}

func (d *demo) do(ctx context.Context, line string) error {
	ctx, cancel := context.WithTimeout(ctx, bot.DefaultCommandTimeout+5*time.Second)
	defer cancel()
	var env *slacktest.Envelope
	var err error
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "click":
		n := 1
		if rest != "" {
			if _, err := fmt.Sscan(rest, &n); err != nil || n < 1 {
				return errors.New("click takes a button's number, like click 2")
			}
		}
		if n > len(d.buttons) {
			return fmt.Errorf("the bot's last message has %d button(s)", len(d.buttons))
		}
		b := d.buttons[n-1]
		if d.view != "" { // a button in the form
			updates := len(d.slack.Calls("views.update"))
			if _, err := d.slack.SendClickInView(ctx, slacktest.ViewClick{UserID: demoUser, ViewID: d.view, ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value}); err != nil {
				return err
			}
			return d.showCall(ctx, "views.update", updates, d.say.formNow)
		}
		env, err = d.slack.SendClick(ctx, slacktest.Click{UserID: demoUser, ActionID: b.ActionID, BlockID: b.BlockID, Value: b.Value})
	case "shortcut":
		env, err = d.slack.SendShortcut(ctx, slacktest.Shortcut{UserID: demoUser, Text: rest})
	case "form":
		return d.form(ctx, rest)
	case "home":
		return d.home(ctx)
	case "mention":
		n := len(d.slack.Calls("chat.postEphemeral"))
		d.events++
		if _, err := d.slack.SendMention(ctx, slacktest.Mention{UserID: demoUser, ChannelID: "C0FAKECHAN", Text: "<@U0FAKEBOT> " + rest,
			ThreadTS: "1700000000.000100", EventID: fmt.Sprintf("Ev%06d", d.events)}); err != nil {
			return err
		}
		return d.showCall(ctx, "chat.postEphemeral", n, d.say.inThread)
	case "dm":
		n := len(d.slack.Calls("chat.postMessage"))
		d.events++
		if _, err := d.slack.SendDirectMessage(ctx, slacktest.DirectMessage{UserID: demoUser, Text: rest, EventID: fmt.Sprintf("Ev%06d", d.events)}); err != nil {
			return err
		}
		return d.showCall(ctx, "chat.postMessage", n, d.say.inDM)
	default:
		command, text, _ := strings.Cut(line, " ")
		if !strings.HasPrefix(command, "/") {
			if !commandShorthand(line) {
				return unknownLine(word)
			}
			command, text = bot.DefaultCommand, line // a record number or help, typed without the command
		}
		env, err = d.slack.SendCommand(ctx, slacktest.Command{UserID: demoUser, Command: command, Text: text})
	}
	if err != nil {
		return err
	}
	ack, err := env.WaitAck(ctx)
	if err != nil {
		return err
	}
	if m := ack.Message(); strings.HasPrefix(m.Text, bot.ProgressPrefix) {
		d.show(m) // the note the answer follows
	}
	answer, err := env.WaitAnswer(ctx)
	if err != nil {
		return err
	}
	d.show(answer)
	return nil
}

// demoWords are the lines the demo knows besides a slash command.
var demoWords = []string{"click", "shortcut", "form", "home", "mention", "dm", "quit", "exit", "help"}

// form uses the global shortcut, then submits text in the form it opens,
// and shows what the form shows.
func (d *demo) form(ctx context.Context, text string) error {
	env, err := d.slack.SendGlobalShortcut(ctx, slacktest.GlobalShortcut{UserID: demoUser, CallbackID: bot.FormCallbackID})
	if err != nil {
		return err
	}
	id, err := d.slack.WaitOpenedView(ctx, env.TriggerID())
	if err != nil {
		return err
	}
	view, _ := d.slack.View(id)
	if !strings.Contains(string(view), `"plain_text_input"`) {
		d.showView(d.say.form, view) // a refusal, in the form
		return nil
	}
	fmt.Fprintf(d.out, d.say.formOpens, text)
	d.view = id
	updates := len(d.slack.Calls("views.update"))
	sub, err := d.slack.SendViewSubmission(ctx, slacktest.ViewSubmission{UserID: demoUser, ViewID: id, CallbackID: bot.FormCallbackID,
		Values: map[string]map[string]string{"record": {"record": text}}})
	if err != nil {
		return err
	}
	ack, err := sub.WaitAck(ctx)
	if err != nil {
		return err
	}
	switch r := ack.ViewResponse(); r.ResponseAction {
	case "errors":
		fmt.Fprintln(d.out, d.say.underInput)
		fmt.Fprintln(d.out, "  │ "+r.Errors["record"])
		return nil
	case "update":
		d.showView(d.say.formNow, r.View)
		if strings.Contains(string(r.View), bot.ProgressPrefix) {
			return d.showCall(ctx, "views.update", updates, d.say.formNow)
		}
	}
	return nil
}

// home opens the App Home and shows what it shows.
func (d *demo) home(ctx context.Context) error {
	n := len(d.slack.Calls("views.publish"))
	d.events++
	if _, err := d.slack.SendHomeOpened(ctx, slacktest.HomeOpened{UserID: demoUser, EventID: fmt.Sprintf("Ev%06d", d.events)}); err != nil {
		return err
	}
	// Nothing is published when nothing changed: the demo waits a moment.
	wait, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	calls, err := d.slack.WaitCalls(wait, "views.publish", n+1)
	if err != nil {
		view, _ := d.slack.HomeView(demoUser)
		d.showView(d.say.homeUnchanged, view)
		return nil
	}
	raw, _ := json.Marshal(calls[n].Body["view"])
	d.showView(d.say.home, raw)
	return nil
}

// showCall waits for the bot's (n+1)-th call of a Web API method and shows
// the message or view it carried.
func (d *demo) showCall(ctx context.Context, method string, n int, header string) error {
	calls, err := d.slack.WaitCalls(ctx, method, n+1)
	if err != nil {
		return err
	}
	c := calls[n]
	if v, ok := c.Body["view"]; ok {
		raw, _ := json.Marshal(v)
		d.showView(header, raw)
		return nil
	}
	d.view = ""
	d.print(header, c.Message())
	return nil
}

// showView shows a view's blocks as a message's.
func (d *demo) showView(header string, view json.RawMessage) {
	var m slacktest.Message
	_ = json.Unmarshal(view, &m)
	d.print(header, m)
}

// commandShorthand says whether line, typed without /tempreport, is what
// one would type after it: help, or what looks like record numbers.
func commandShorthand(line string) bool {
	if line == "help" || line == "帮助" {
		return true
	}
	for _, r := range line {
		if !unicode.IsDigit(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// unknownLine says that the demo does not know word, suggesting the word
// it may have meant; the line is not sent to the bot.
func unknownLine(word string) error {
	guess := ""
	for _, w := range demoWords {
		if editDistance(word, w) <= 2 {
			guess = "did you mean " + w + "? "
			break
		}
	}
	return fmt.Errorf("%q is not something the demo knows, so nothing was sent; %stype /tempreport <record number>, click, shortcut <message text>, form <text>, mention <text>, dm <text>, home or quit", word, guess)
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := range ra {
		cur := make([]int, len(rb)+1)
		cur[0] = i + 1
		for j := range rb {
			cost := 1
			if ra[i] == rb[j] {
				cost = 0
			}
			cur[j+1] = min(prev[j+1]+1, cur[j]+1, prev[j]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

func (d *demo) show(m slacktest.Message) {
	header := d.say.onlyYou
	if m.ReplaceOriginal {
		header = d.say.replacing
	}
	d.view = ""
	d.print(header, m)
}

func (d *demo) print(header string, m slacktest.Message) {
	fmt.Fprintln(d.out, header)
	for line := range strings.SplitSeq(withoutCodeMarks(m).Plain(), "\n") {
		fmt.Fprintln(d.out, "  │ "+line)
	}
	d.buttons = m.Buttons()
}

// isTerminal says whether stream (stdin, stdout, stderr) is a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// withoutCodeMarks is m with its code spans as plain text: a terminal has
// no monospace to show them in, and Slack never shows the backticks that
// Plain writes around them.
func withoutCodeMarks(m slacktest.Message) slacktest.Message {
	var plain func([]slacktest.Element) []slacktest.Element
	plain = func(els []slacktest.Element) []slacktest.Element {
		out := slices.Clone(els)
		for i := range out {
			if st := out[i].Style; st != nil && st.Code {
				out[i].Style = &slacktest.Style{Bold: st.Bold}
			}
			out[i].Elements = plain(out[i].Elements)
		}
		return out
	}
	m.Blocks = slices.Clone(m.Blocks)
	for i := range m.Blocks {
		m.Blocks[i].Elements = plain(m.Blocks[i].Elements)
	}
	return m
}

// demoWords are the demo's own lines, in the bot's language.
type demoWordsByLanguage struct {
	banner  string // the person, then the records: ready, not in progress, broken, then ready for the shortcut, the form, a mention and a DM
	auto    string // the person's Slack language, the fallback
	logNote string // the log file's path

	// Before what the bot shows, where it shows it.
	onlyYou, replacing, inThread, inDM string
	form, formNow, underInput          string
	formOpens                          string // what was pasted
	home, homeUnchanged                string
}

// words are the demo's lines in language: Chinese for zh, English for
// the rest (auto: the person's language is only known to the bot).
func words(language string) demoWordsByLanguage {
	if language == "zh" {
		return demoWordsByLanguage{
			banner: `这是演示（DEMO）：假的 Slack 和假的易背调供应商都运行在 127.0.0.1 上，不会有任何数据离开本机。
你是 %s，在机器人的允许名单上。像在 Slack 里一样输入：
  /tempreport %s   有报告的背调号：你会得到链接
  /tempreport %s   未在进行中的背调
  /tempreport %s   供应商出错的背调号
  /tempreport 帮助                        （或 help）
  shortcut 候选人张三，背调号 %s，请看一下
                                          在频道消息上使用消息快捷方式
  click        点击机器人上一条消息的第一个按钮（click 2：第二个）
  form 背调号：%s   全局快捷方式的表单（消息列中也可用）：粘贴背调号并提交
  mention %s        在消息列中 @tempreport：回复仅你本人可见
  dm %s             给应用发私信
  home         应用主页：机器人的用途，以及你能否使用
  quit         退出
`,
			logNote: "机器人自己的日志（运维人员看到的那样）写在 %s，演示结束时删除（把标准错误重定向到文件即可保留）。\n",

			onlyYou:       "机器人回复（仅你本人可见）：",
			replacing:     "机器人替换了上一条消息（仅你本人可见）：",
			inThread:      "机器人在消息列中回复（仅你本人可见）：",
			inDM:          "机器人在你与它的私信中回复：",
			form:          "表单：",
			formNow:       "表单现在显示：",
			underInput:    "表单输入框下方提示：",
			formOpens:     "表单打开；你粘贴 %q 并提交\n",
			home:          "主页标签：",
			homeUnchanged: "主页标签（内容没有变化，未重新发布）：",
		}
	}
	return demoWordsByLanguage{
		banner: `This is a DEMO. A fake Slack and a fake 易背调 vendor run on 127.0.0.1; nothing leaves this machine.
You are %s, on the bot's allowlist. Type what you would type in Slack:
  /tempreport %s   a record with a report: you get a link
  /tempreport %s   a record that is not in progress
  /tempreport %s   a record the vendor fails on
  /tempreport help                        (or 帮助)
  shortcut 候选人张三，背调号 %s，请看一下
                                          the message shortcut on a message in a channel
  click        press the first button of the bot's last message (click 2: the second)
  form 背调号：%s   the global shortcut's form, in threads too: paste a record, submit
  mention %s        @tempreport in a thread: only you see the answer
  dm %s             a direct message to the app
  home         the App Home: what the bot does, and whether you may use it
  quit
`,
		auto:    "BOT_LANGUAGE=auto: your Slack language here is %s (the terminal's LANG); a language the bot does not speak gets BOT_LANGUAGE_FALLBACK, %s.\n",
		logNote: "The bot's own log, as an operator would read it, goes to %s, removed when the demo ends (redirect stderr to a file to keep it).\n",

		onlyYou:       "bot, only you can see this:",
		replacing:     "bot, replacing its last message, only you can see this:",
		inThread:      "bot, in the thread, only you can see this:",
		inDM:          "bot, in your direct messages with it:",
		form:          "the form:",
		formNow:       "the form now shows:",
		underInput:    "the form, under the input:",
		formOpens:     "the form opens; you paste %q and submit it\n",
		home:          "the Home tab:",
		homeUnchanged: "the Home tab (not published again: nothing it shows has changed):",
	}
}
