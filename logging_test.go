package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestLogLinesCarryLittleOfAValue: a value from outside (an envelope ID of
// 10 KB, a long error) is clipped to a few hundred bytes, with a marker, in
// every format and however it reaches the line; a secret across the cut
// leaves nothing of itself; short values are as they were.
func TestLogLinesCarryLittleOfAValue(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("E", 10<<10)
	straddling := strings.Repeat("a", maxLogValue-5) + "VENDORSECRET" + strings.Repeat("b", 500)
	for _, format := range []string{"json", "text"} {
		var out bytes.Buffer
		log := newLogger(&out, slog.LevelDebug, format, "VENDORSECRET").With("envelope_id", huge)
		log.Info("an envelope", "user", huge, "error", errors.New(huge), "raw", []byte(huge),
			slog.Group("g", "deep", huge), "short", "U0ALLOWED", "straddling", straddling, "count", 3)
		line := out.String()
		if len(line) > 8*(maxLogValue+64)+200 {
			t.Errorf("%s: a line with 10 KB values is %d bytes, want each value clipped to about %d", format, len(line), maxLogValue)
		}
		if n := strings.Count(line, "…[9840 more bytes]"); n != 5 {
			t.Errorf("%s: %d values say they were clipped, want 5:\n%.2000s", format, n, line)
		}
		for _, leak := range []string{"VENDORSEC", "VENDOR"} {
			if strings.Contains(line, leak) {
				t.Errorf("%s: a secret across the cut left %q", format, leak)
			}
		}
		for _, kept := range []string{"U0ALLOWED", "3", "an envelope"} {
			if !strings.Contains(line, kept) {
				t.Errorf("%s: lost %q", format, kept)
			}
		}
	}
	// Cut at a character boundary: 3-byte characters, never split.
	var out bytes.Buffer
	newLogger(&out, slog.LevelInfo, "json").Info("x", "zh", strings.Repeat("背", 1000))
	if !strings.Contains(out.String(), strings.Repeat("背", maxLogValue/3)+"…[") || strings.Contains(out.String(), "\\ufffd") {
		t.Errorf("clipping Chinese: %.600s", out.String())
	}
}
