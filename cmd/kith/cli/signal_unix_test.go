//go:build unix

package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalStops: once the first SIGINT has ended the command's
// context, a second one ends the process at once, however soon it comes
// (the command says so the moment it starts stopping). The process under
// test is this test binary, run again as a helper that stops on its
// first signal and then never finishes.
func TestSecondSignalStops(t *testing.T) {
	if os.Getenv("KITH_SIGNAL_HELPER") == "1" {
		ctx, stop := stopOnSignal()
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("stopping")
		select {} // a stop that hangs, as a store that cannot write does
	}
	for range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalStops$")
		cmd.Env = append(os.Environ(), "KITH_SIGNAL_HELPER=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		expect := func(want string) {
			t.Helper()
			if !lines.Scan() || lines.Text() != want {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("the helper said %q, want %q (%v)", lines.Text(), want, lines.Err())
			}
		}
		expect("ready")
		cmd.Process.Signal(syscall.SIGINT)
		expect("stopping")
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
				t.Fatalf("the helper ended with %v, want killed by the second SIGINT", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatal("a second SIGINT did not end the process")
		}
	}
}
