package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// buildVersion is the program's version and commit, read from the build
// information the go command stamps into the binary: the module version
// (a tag, or a pseudo-version made from the commit) and the VCS revision,
// "+dirty" when the tree had changes. A binary built without VCS stamping
// says "(devel)" and "unknown".
func buildVersion() (version, commit string) {
	version, commit = "(devel)", "unknown"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit
	}
	if v := info.Main.Version; v != "" {
		version = v
	}
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "unknown" {
		commit += "+dirty"
	}
	return version, commit
}

// versionLine is what -version prints.
func versionLine() string {
	version, commit := buildVersion()
	return fmt.Sprintf("tempreport %s (%s, %s)", version, commit, runtime.Version())
}

// printVersion is -version: the version line on stdout and, when the
// binary carries no commit, why and how to get one on stderr (stdout stays
// one line for scripts).
func printVersion(stdout, stderr io.Writer) {
	fmt.Fprintln(stdout, versionLine())
	if _, commit := buildVersion(); commit == "unknown" {
		fmt.Fprintln(stderr, "(no commit: `go run` never stamps one, nor `go build` outside a git checkout or with -buildvcs=false. "+
			"For a stamped binary, build in a git clone: go build -buildvcs=true -o tempreport . && ./tempreport -version; the Docker image is stamped too)")
	}
}
