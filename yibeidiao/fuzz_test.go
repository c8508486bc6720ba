package yibeidiao

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary HTTP answers to the envelope decoder. It must
// never panic, never yield a link from a failing, malformed or unverified
// answer, and never put a link or the token in an error string.
func FuzzDecode(f *testing.F) {
	const key, token, seq = "KEY", "TOKEN", "SEQ1"
	ok := envelope{Code: "000", Key: key, Seq: seq, TS: "20190102145555", Msg: json.RawMessage(`"https://res.yibeidiao.com/a.pdf?Expires=1546412215"`)}
	ok.Sign = Sign(key, ok.TS, seq, token)
	good, _ := json.Marshal(ok)
	f.Add(200, good, false)
	f.Add(200, []byte(`{"code":"901","key":"","seq":"","ts":"","sign":"","msg":"签名验证失败"}`), false)
	f.Add(200, []byte(`{"code":"000","msg":{"a":1}}`), false)
	f.Add(500, []byte(`<html>`), false)
	f.Add(200, []byte(``), false)
	f.Add(200, []byte(`{"code":"1002","msg":"see http://x"}`), false)
	f.Add(200, []byte(`null`), false)

	f.Fuzz(func(t *testing.T, status int, body []byte, noVerify bool) {
		verify := !noVerify
		c := &Client{key: key, token: token, verify: verify, now: time.Now}
		env, err := c.decode(status, body, seq)
		if err != nil {
			if s := err.Error(); strings.Contains(s, "://") || strings.Contains(s, token) {
				t.Fatalf("decode error %q leaks a link or the token", s)
			}
			return
		}
		if status < 200 || status > 299 || env.Code != codeOK {
			t.Fatalf("decode(%d, %q) succeeded with code %q", status, body, env.Code)
		}
		if verify && !strings.EqualFold(env.Sign, Sign(env.Key, env.TS, seq, token)) {
			t.Fatalf("decode(%d, %q) accepted a bad signature", status, body)
		}
		rep, err := c.report(env)
		if err != nil {
			if strings.Contains(err.Error(), "://") {
				t.Fatalf("report error %q leaks a link", err)
			}
			return
		}
		u, perr := url.Parse(rep.URL)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("report from %q has link %q, not an absolute http(s) URL", body, rep.URL)
		}
	})
}
