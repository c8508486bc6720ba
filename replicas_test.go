package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/hr-tools/tempreport/bot/slacktest"
	"github.com/hr-tools/tempreport/internal/redistest"
	"github.com/hr-tools/tempreport/internal/testkit"
	"github.com/hr-tools/tempreport/yibeidiao/yibeidiaotest"
)

// child is the real program in a child process: the test binary run as main.
type child struct {
	cmd  *exec.Cmd
	logs testkit.Buffer
}

func startChild(t *testing.T, e env) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0])} // TestMain runs main, with no arguments
	c.cmd.Env = append(os.Environ(), "TEMPREPORT_TEST_RUN_MAIN=1")
	for k, v := range e {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stderr = &c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		_ = c.cmd.Wait()
		if t.Failed() {
			t.Logf("a replica's log:\n%s", c.logs.String())
		}
	})
	return c
}

// pair starts two replicas of the program behind one fake Slack app, with
// envelopes spread over their two sockets, sharing redis.
func pair(t *testing.T, ctx context.Context, redis *redistest.Server, e env, fakeSlack *slacktest.Server) [2]*child {
	t.Helper()
	fakeSlack.SpreadEnvelopes()
	e["REDIS_URL"] = redis.URL()
	e["LOG_LEVEL"] = "info"
	p := [2]*child{startChild(t, e), startChild(t, e)}
	if err := fakeSlack.WaitSockets(ctx, 2); err != nil {
		t.Fatalf("two replicas never connected: %v\n%s\n%s", err, p[0].logs.String(), p[1].logs.String())
	}
	return p
}

// answers sends cmds one after another (each goes to the next socket) and
// counts the answers that carry a link; every command must be acked once
// and answered once, in its ack or in one post after a progress note.
func answers(t *testing.T, ctx context.Context, fakeSlack *slacktest.Server, cmds []slacktest.Command) (links int) {
	t.Helper()
	for _, cmd := range cmds {
		env, err := fakeSlack.SendCommand(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := env.WaitAnswer(ctx)
		if err != nil {
			t.Fatalf("%s: %v", env.ID, err)
		}
		if strings.Contains(answer.Raw(), "/survey-result/") {
			links++
		}
		if !env.AnsweredOnce() {
			t.Errorf("%s: %d acks and %d posts, want one answer", env.ID, env.Acks(), len(env.Posts()))
		}
	}
	return links
}

func TestReplicasKeepOneLimitPerPerson(t *testing.T) {
	t.Parallel()
	redis := redistest.ForTest(t)
	fakeSlack, _, e := fakesFor(t)
	e["USER_BURST"], e["USER_RATE_PER_MINUTE"] = "3", "1"
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pair(t, ctx, redis, e, fakeSlack)

	cmds := make([]slacktest.Command, 8)
	for i := range cmds {
		cmds[i] = slacktest.Command{UserID: "U0ALLOWED", Text: readyRecord}
	}
	if links := answers(t, ctx, fakeSlack, cmds); links != 3 {
		t.Errorf("8 commands from one person over two replicas: %d links, want their burst of 3", links)
	}
}

func TestReplicasServeARedeliveryOnce(t *testing.T) {
	t.Parallel()
	redis := redistest.ForTest(t)
	fakeSlack, vendor, e := fakesFor(t)
	vendor.SetFault(yibeidiaotest.Fault{Delay: time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p := pair(t, ctx, redis, e, fakeSlack)

	env, err := fakeSlack.SendCommand(ctx, slacktest.Command{UserID: "U0ALLOWED", Text: readyRecord})
	if err != nil {
		t.Fatal(err)
	}
	first, err := env.WaitAck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := fakeSlack.Redeliver(ctx, env); err != nil { // to the other socket
		t.Fatal(err)
	}
	acks, err := env.WaitAcks(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(acks[1].Payload) != string(first.Payload) {
		t.Errorf("the other replica acked the redelivery with %s, want the first ack's %s", acks[1].Payload, first.Payload)
	}
	if _, err := env.WaitPosts(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The other replica decided, and said, not to serve it: no second
	// vendor call or answer can follow that decision.
	if err := waitForEither(ctx, p, "Slack sent a delivery again that another replica served; acked it as before, not served twice"); err != nil {
		t.Fatal(err)
	}
	if calls, posts := len(vendor.Calls()), len(env.Posts()); calls != 1 || posts != 1 {
		t.Errorf("a command redelivered to the other replica: %d vendor calls and %d answers, want 1 and 1", calls, posts)
	}
}

// waitForEither waits until one of the replicas' logs says what.
func waitForEither(ctx context.Context, p [2]*child, what string) error {
	for {
		for _, c := range p {
			if strings.Contains(c.logs.String(), what) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no replica logged %q: %w", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestReplicasShareOneVendorBudget: two replicas share one vendor budget.
// The test tells one budget from two (twice rate + burst in a second); the
// exact figure, within rate + burst + timer jitter, is the load command's
// (go run ./loadtest -replicas 2), where a busy machine cannot fail it.
func TestReplicasShareOneVendorBudget(t *testing.T) {
	t.Parallel()
	redis := redistest.ForTest(t)
	fakeSlack, vendor, e := fakesFor(t)
	const n, rps, burst = 40, 10, 5
	users, cmds := slacktest.Crowd(n, readyRecord)
	e["ALLOWED_USER_IDS"] = strings.Join(users, ",")
	e["YIBEIDIAO_RPS"], e["YIBEIDIAO_BURST"] = fmt.Sprint(rps), fmt.Sprint(burst)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pair(t, ctx, redis, e, fakeSlack)

	envs, err := fakeSlack.SendCommands(ctx, cmds)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if _, err := env.WaitPosts(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	// Each replica alone would allow rps + burst in a second, so two
	// unshared ones up to twice that. Late timers on a busy machine may
	// pack a few more calls into a second than one budget allows; half a
	// second's worth still tells one budget from two.
	most := yibeidiaotest.BusiestSecond(vendor.Calls())
	t.Logf("busiest second: %d calls; one budget allows %d, two %d", most, rps+burst, 2*(rps+burst))
	if most > rps+burst+rps/2 {
		t.Errorf("the vendor saw %d calls in one second from two replicas; one budget allows %d, two %d", most, rps+burst, 2*(rps+burst))
	}
}

func TestReplicasKeepAnsweringWithoutRedis(t *testing.T) {
	t.Parallel()
	redis := redistest.ForTest(t)
	fakeSlack, _, e := fakesFor(t)
	e["USER_BURST"], e["USER_RATE_PER_MINUTE"] = "2", "1"
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	p := pair(t, ctx, redis, e, fakeSlack)

	redis.Kill()
	// Each replica now counts on its own: a person gets each replica's burst.
	cmds := make([]slacktest.Command, 6)
	for i := range cmds {
		cmds[i] = slacktest.Command{UserID: "U0ALLOWED", Text: readyRecord}
	}
	if links := answers(t, ctx, fakeSlack, cmds); links != 4 {
		t.Errorf("with Redis down, 6 commands over two replicas: %d links, want each replica's burst of 2", links)
	}
	for _, c := range p {
		if err := c.logs.WaitFor(ctx, "Redis cannot be reached"); err != nil {
			t.Error(err)
		}
	}

	if err := redis.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range p {
		if err := c.logs.WaitFor(ctx, "Redis is back"); err != nil {
			t.Fatal(err)
		}
	}
	// Shared again: another person gets one burst across the pair.
	for i := range cmds {
		cmds[i].UserID = "U0SECOND"
	}
	if links := answers(t, ctx, fakeSlack, cmds); links != 2 {
		t.Errorf("with Redis back, 6 commands over two replicas: %d links, want one burst of 2", links)
	}
}

// TestReplicasTellAFullRedis: a Redis at maxmemory with noeviction answers
// pings but refuses every write. The replica says so once, /healthz and
// /metrics name it, and commands are answered all the same.
func TestReplicasTellAFullRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	fakeSlack, _, e := fakesFor(t)
	e["REDIS_URL"], e["LOG_LEVEL"] = srv.URL(), "info"
	e["HEALTH_ADDR"], e["METRICS_ADDR"] = testkit.DeadAddr(t), testkit.DeadAddr(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := startChild(t, e)
	if err := fakeSlack.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.logs.WaitFor(ctx, "sharing limits and redeliveries through Redis"); err != nil {
		t.Fatal(err)
	}
	fillRedis(t, srv.Addr)

	cmds := make([]slacktest.Command, 6)
	for i := range cmds {
		cmds[i] = slacktest.Command{UserID: []string{"U0ALLOWED", "U0SECOND"}[i%2], Text: readyRecord}
	}
	for _, cmd := range cmds {
		if links := answers(t, ctx, fakeSlack, []slacktest.Command{cmd}); links != 1 {
			t.Errorf("with Redis full, a command got no link")
		}
		time.Sleep(300 * time.Millisecond) // two commands a second, as in the issue
	}
	health := get(t, "http://"+e["HEALTH_ADDR"]+"/healthz")
	if !strings.Contains(health, `"redis":"full: `) {
		t.Errorf("/healthz with Redis full: %s", health)
	}
	if metrics := get(t, "http://"+e["METRICS_ADDR"]+"/metrics"); !strings.Contains(metrics, `tempreport_redis_state{state="full"} 1`) ||
		!strings.Contains(metrics, "tempreport_redis_up 0") {
		t.Errorf("/metrics with Redis full does not say so")
	}
	logs := c.logs.String()
	if full, gone, back := strings.Count(logs, "Redis is full"), strings.Count(logs, "Redis cannot be reached"), strings.Count(logs, "Redis is back"); full != 1 || gone != 0 || back != 0 {
		t.Errorf("with Redis full for 2s: %d full, %d unreachable and %d back lines; want 1, 0, 0", full, gone, back)
	}
}

// fillRedis sets a small maxmemory with noeviction, writes until Redis
// refuses, and leaves it well over the limit.
func fillRedis(t *testing.T, addr string) {
	t.Helper()
	ctx := t.Context()
	a := goredis.NewClient(&goredis.Options{Addr: addr})
	defer a.Close()
	if err := a.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.ConfigSet(ctx, "maxmemory", "3mb").Err(); err != nil {
		t.Fatal(err)
	}
	value := strings.Repeat("x", 4<<10)
	for i := 0; ; i++ {
		err := a.Set(ctx, fmt.Sprint("filler:", i), value, 0).Err()
		if goredis.IsOOMError(err) {
			break
		}
		if err != nil || i > 10000 {
			t.Fatalf("filling Redis: %v after %d keys", err, i)
		}
	}
	if err := a.ConfigSet(ctx, "maxmemory", "2mb").Err(); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestReplicasNoticeAReset: Redis emptied between a command and its
// redelivery to the same replica. The replica says so once, and the
// redelivery is acked as the first try was, not served again.
func TestReplicasNoticeAReset(t *testing.T) {
	t.Parallel()
	srv := redistest.ForTest(t)
	fakeSlack, vendor, e := fakesFor(t)
	e["REDIS_URL"], e["LOG_LEVEL"] = srv.URL(), "info"
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := startChild(t, e)
	if err := fakeSlack.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	env, err := fakeSlack.SendCommand(ctx, slacktest.Command{UserID: "U0ALLOWED", Text: readyRecord})
	if err != nil {
		t.Fatal(err)
	}
	first, err := env.WaitAck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.WaitPosts(ctx, 1); err != nil {
		t.Fatal(err)
	}
	a := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer a.Close()
	if err := a.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.logs.WaitFor(ctx, "Redis was reset"); err != nil {
		t.Fatal(err)
	}
	if err := fakeSlack.Redeliver(ctx, env); err != nil {
		t.Fatal(err)
	}
	acks, err := env.WaitAcks(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(acks[1].Payload) != string(first.Payload) {
		t.Errorf("the redelivery after a reset was acked with %s, want the first ack's %s", acks[1].Payload, first.Payload)
	}
	// The replica decided, and said, not to serve it again: no second
	// vendor call or answer can follow that decision.
	if err := c.logs.WaitFor(ctx, "Slack sent a delivery again; acked it as before, not served twice"); err != nil {
		t.Fatal(err)
	}
	if calls, posts := len(vendor.Calls()), len(env.Posts()); calls != 1 || posts != 1 {
		t.Errorf("a command redelivered to the same replica after a reset: %d vendor calls and %d answers, want 1 and 1", calls, posts)
	}
	if n := strings.Count(c.logs.String(), "Redis was reset"); n != 1 {
		t.Errorf("one reset logged %d times", n)
	}
}

// TestOpsPortCannotBeExhausted: hundreds of idle connections to each ops
// port hold no more than a few file descriptors of the bot, and commands
// are still answered while they are held.
func TestOpsPortCannotBeExhausted(t *testing.T) {
	t.Parallel()
	fakeSlack, _, e := fakesFor(t)
	e["HEALTH_ADDR"], e["METRICS_ADDR"] = testkit.DeadAddr(t), testkit.DeadAddr(t)
	e["LOG_LEVEL"] = "info"
	c := startChild(t, e)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := fakeSlack.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.logs.WaitFor(ctx, `"variable":"METRICS_ADDR"`); err != nil {
		t.Fatal(err)
	}
	before := openFiles(t, c.cmd.Process.Pid)
	var conns []net.Conn
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for i := range 600 {
		conn, err := net.Dial("tcp", e[[]string{"HEALTH_ADDR", "METRICS_ADDR"}[i%2]])
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, conn)
	}
	if links := answers(t, ctx, fakeSlack, []slacktest.Command{{UserID: "U0ALLOWED", Text: readyRecord}}); links != 1 {
		t.Errorf("with 300 idle connections on each ops port, a command got no link")
	}
	if after := openFiles(t, c.cmd.Process.Pid); after > before+2*maxOpsConns+8 {
		t.Errorf("300 idle connections to each ops port hold %d of the bot's file descriptors (%d before), want at most %d more",
			after-before, before, 2*maxOpsConns)
	}
}

func openFiles(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(fds)
}

// TestRedisPasswordIsNeverPrinted: with a password in REDIS_URL, neither the
// logs of a running bot, nor -check, nor the error of a refused password
// show it.
func TestRedisPasswordIsNeverPrinted(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	mr.RequireAuth("REDISSECRET42")
	fakeSlack, _, e := fakesFor(t)
	e["REDIS_URL"] = "redis://:REDISSECRET42@" + mr.Addr() + "/0"
	p := startProgram(t, e, fakeSlack)
	if err := p.logs.WaitFor(p.wait, "sharing limits and redeliveries through Redis"); err != nil {
		t.Fatal(err)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	checkErr := run(t.Context(), []string{"-check"}, e.get, nil, &out, &bytes.Buffer{})
	if !strings.Contains(out.String(), "✓ Redis shared by the replicas") {
		t.Errorf("-check with the right password: %v\n%s", checkErr, out.String())
	}

	wrong := maps.Clone(e)
	wrong["REDIS_URL"] = "redis://:WRONGSECRET42@" + mr.Addr() + "/0"
	var logs bytes.Buffer
	err := run(t.Context(), nil, wrong.get, nil, &bytes.Buffer{}, &logs)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a wrong Redis password: run = %v, want a configuration error naming REDIS_URL", err)
	}
	var checkOut bytes.Buffer
	_ = run(t.Context(), []string{"-check"}, wrong.get, nil, &checkOut, &bytes.Buffer{})
	if !strings.Contains(checkOut.String(), "✗ Redis") || !strings.Contains(checkOut.String(), "REDIS_URL") {
		t.Errorf("-check with a wrong Redis password:\n%s", checkOut.String())
	}
	for _, text := range []string{p.logs.String(), out.String(), logs.String(), checkOut.String(), fmt.Sprint(err)} {
		if strings.Contains(text, "REDISSECRET42") || strings.Contains(text, "WRONGSECRET42") {
			t.Errorf("a Redis password was printed:\n%s", text)
		}
	}
}
