package cli

import (
	"os"
	"runtime"
	"syscall"
	"testing"
)

// Tests that start c4sctl as a child process and signal it. On Windows os.Process.Signal
// delivers os.Kill only: Ctrl-C is a console event (GenerateConsoleCtrlEvent) that reaches every
// process on the console, the test's own included, so a test cannot send it to one child.

// needsInterrupt skips a test of what c4sctl does on Ctrl-C where a test cannot send it.
func needsInterrupt(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: a test cannot send Ctrl-C (os.Interrupt) to one child process; the interrupt handling is tested on Unix")
	}
}

// stopProcess ends a long-running child (sandbox serve) as a user would, with Ctrl-C; on
// Windows, where a test cannot send it, by killing it.
func stopProcess(p *os.Process) {
	if runtime.GOOS == "windows" {
		_ = p.Kill()
		return
	}
	_ = p.Signal(os.Interrupt)
}

// killedExitCode is what applyUntil reports for a child ended by os.Process.Kill: minus the
// signal on Unix (SIGKILL), and on Windows the exit code TerminateProcess was given (1: Go's
// os.Process.Kill).
func killedExitCode() int {
	if runtime.GOOS == "windows" {
		return 1
	}
	return -int(syscall.SIGKILL)
}
