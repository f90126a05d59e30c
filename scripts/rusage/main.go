// Command rusage runs a command and writes one line about it: its wall time, its user and
// system CPU time (seconds, three decimals) and its peak resident set size (KiB):
//
//	wall user sys maxrss
//
// to the file given with -o, or to stderr. It exits with the command's status (128+N when a
// signal N ended it). scripts/bench.sh times with it: GNU time prints CPU times with two
// decimals only, too coarse for a ratio near its target.
//
// Usage: rusage [-o FILE] COMMAND [ARG...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rusage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the figures to this file instead of stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: rusage [-o FILE] COMMAND [ARG...]")
		return 2
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(stderr, "rusage: %v\n", err)
		return 127
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(stderr, "rusage: no resource usage for the command on this system")
		return 127
	}
	line := fmt.Sprintf("%.3f %.3f %.3f %d\n", wall.Seconds(),
		time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds(), ru.Maxrss)
	if *out == "" {
		fmt.Fprint(stderr, line)
	} else if err := os.WriteFile(*out, []byte(line), 0o644); err != nil {
		fmt.Fprintf(stderr, "rusage: %v\n", err)
		return 127
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}
