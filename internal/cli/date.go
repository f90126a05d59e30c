package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mb2md/mb2md/internal/datefix"
)

func dateCommand(env Env) *cobra.Command {
	var tz string
	var now int64
	var compat bool
	cmd := &cobra.Command{
		Use:   "date [--tz ZONE] [--now EPOCH] [--compat] STRING... | -",
		Short: "parse dates as mb2md does (Perl Date::Parse compatible)",
		Long: `Parses each STRING (or, with "-", each line of standard input) and prints one line per input.
With --compat: the epoch seconds Perl's Date::Parse str2time returns, or "undef".
Without: the epoch and the RFC 3339 UTC time of the lenient reading mb2md uses for Received:
and Date: headers, or "undef".`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("date needs at least one STRING, or - to read lines from standard input")}
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := location(tz)
			if err != nil {
				return usageError{err}
			}
			clock := env.Now()
			if cmd.Flags().Changed("now") {
				clock = time.Unix(now, 0)
			}
			out := bufio.NewWriterSize(env.Stdout, 64*1024)
			emit := func(s string) {
				var t time.Time
				var ok bool
				if compat {
					t, ok = datefix.Str2Time(s, clock, loc)
				} else {
					t, ok = datefix.ParseLenient(s, clock, loc)
				}
				switch {
				case !ok:
					out.WriteString("undef\n")
				case compat:
					out.WriteString(epoch(t))
					out.WriteByte('\n')
				default:
					out.WriteString(epoch(t))
					out.WriteByte(' ')
					out.WriteString(t.UTC().Format(time.RFC3339Nano))
					out.WriteByte('\n')
				}
			}
			for _, a := range args {
				if a != "-" {
					emit(a)
					continue
				}
				sc := bufio.NewScanner(env.Stdin)
				sc.Buffer(make([]byte, 64*1024), 1<<20)
				for sc.Scan() {
					emit(strings.TrimSuffix(sc.Text(), "\r"))
				}
				if err := sc.Err(); err != nil {
					out.Flush()
					return fmt.Errorf("read standard input: %w", err)
				}
			}
			return out.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&tz, "tz", "", "zone for dates without one (default: the local zone)")
	f.Int64Var(&now, "now", 0, "pretend the current time is EPOCH (affects 2-digit and missing years)")
	f.BoolVar(&compat, "compat", false, "Date::Parse semantics only: print the epoch or undef")
	return cmd
}

// epoch prints seconds like Perl prints str2time's result: an integer, or a decimal fraction
// without trailing zeros.
func epoch(t time.Time) string {
	s := strconv.FormatInt(t.Unix(), 10)
	if ns := t.Nanosecond(); ns != 0 {
		if t.Unix() < 0 {
			// Perl prints the float value: -1.75 for (−2 s + 0.25 s).
			f := float64(t.Unix()) + float64(ns)/1e9
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
		frac := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
		s += "." + frac
	}
	return s
}
