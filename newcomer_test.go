package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
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
