// Package privsep runs a piece of work for one user as that user: the parent (normally root)
// starts its own executable again as a child process with the user's uid and gid and no
// supplementary groups, sends the job as JSON on the child's stdin and reads the JSON result
// from a pipe (file descriptor 3). Everything the child does in the user's home and spool is
// then checked by the kernel against the user's own rights, so a symbolic or hard link planted
// by the user can never make the tool read or write what the user could not.
//
// Wiring: handlers are registered at init time with Register; main calls MaybeChild first thing
// and, when it reports a child, exits with the code it returns:
//
//	func main() {
//		if code, ok := privsep.MaybeChild(); ok {
//			os.Exit(code)
//		}
//		...
//	}
//
// The child runs in its own process group with a clean environment (HOME, USER, LOGNAME,
// PATH=/usr/bin:/bin, TZ when set), in "/", and dies with the parent (Linux). When ctx ends, the
// group gets SIGTERM (the handler's ctx is cancelled, so it can remove temporary files and locks),
// then SIGKILL after a grace period.
//
// The child runs as the user, who may ptrace it: its result is data from the user, not from us.
// Run bounds its size and decodes it strictly; callers must validate what it says.
package privsep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mb2md/mb2md/internal/users"
)

// Environment variable that marks a child and names its handler.
const envChild = "MB2MD_PRIVSEP_HANDLER"

const (
	resultFD       = 3
	firstExtraFD   = 4
	maxResultBytes = 16 << 20
	maxInputBytes  = 64 << 20
	tailBytes      = 4096
	// DefaultGrace is the time between SIGTERM and SIGKILL when ctx ends.
	DefaultGrace = 5 * time.Second
)

// Handler does the work in the child. Its result is marshalled to JSON.
type Handler func(ctx context.Context, in json.RawMessage) (any, error)

var (
	mu        sync.RWMutex
	handlers  = map[string]Handler{}
	sentinels = map[string]error{}
)

func init() {
	RegisterError("canceled", context.Canceled)
	RegisterError("deadline", context.DeadlineExceeded)
	RegisterError("not-exist", fs.ErrNotExist)
	RegisterError("permission", fs.ErrPermission)
}

// Register makes fn runnable in a child under name. Call it from init; registering a name twice
// panics (a programming error).
func Register(name string, fn Handler) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := handlers[name]; dup {
		panic("privsep: handler " + name + " registered twice")
	}
	handlers[name] = fn
}

// RegisterError lets a sentinel error cross the process boundary: when a handler's error
// matches target (errors.Is), the error Run returns matches it too. Register the same pairs in
// every process (from init). context.Canceled, context.DeadlineExceeded, fs.ErrNotExist and
// fs.ErrPermission are registered already.
func RegisterError(code string, target error) {
	mu.Lock()
	defer mu.Unlock()
	sentinels[code] = target
}

// wire formats
type result struct {
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Codes  []string        `json:"codes,omitempty"`
}

// ChildError is the error of a child: the handler's error text, or how the child died.
type ChildError struct {
	User    string
	Handler string
	Msg     string   // the handler's error text, or a description of the failure
	Codes   []string // registered sentinel codes the error matched
	Output  string   // the end of the child's stdout/stderr, when it failed without a result
}

func (e *ChildError) Error() string {
	s := fmt.Sprintf("as user %s: %s", e.User, e.Msg)
	if e.Output != "" {
		s += " (last output: " + strings.TrimSpace(e.Output) + ")"
	}
	return s
}

// Unwrap returns the registered sentinels the child's error matched.
func (e *ChildError) Unwrap() []error {
	mu.RLock()
	defer mu.RUnlock()
	var out []error
	for _, c := range e.Codes {
		if s, ok := sentinels[c]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Option tunes Run.
type Option func(*config)

type config struct {
	output io.Writer
	files  []*os.File
	grace  time.Duration
	env    []string
}

// WithOutput sends the child's stdout and stderr to w (default os.Stderr).
func WithOutput(w io.Writer) Option { return func(c *config) { c.output = w } }

// WithFiles passes open files to the child, where File(0), File(1), … return them.
func WithFiles(f ...*os.File) Option { return func(c *config) { c.files = append(c.files, f...) } }

// WithGrace sets the time between SIGTERM and SIGKILL on cancel (default DefaultGrace).
func WithGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithEnv adds KEY=VALUE entries to the child's environment.
func WithEnv(kv ...string) Option { return func(c *config) { c.env = append(c.env, kv...) } }

// Run runs the handler name as user u with input in (marshalled to JSON) and decodes its result
// into out (nil: discard). The handler's error comes back as a *ChildError. Running as another
// uid needs root; running as the caller's own uid and gid works unprivileged.
func Run(ctx context.Context, u users.User, name string, in any, out any, opts ...Option) error {
	cfg := config{output: os.Stderr, grace: DefaultGrace}
	for _, o := range opts {
		o(&cfg)
	}
	mu.RLock()
	_, known := handlers[name]
	mu.RUnlock()
	if !known {
		return fmt.Errorf("privsep: no handler %q registered", name)
	}
	if u.UID < 0 || u.GID < 0 {
		return fmt.Errorf("privsep: user %s: bad uid %d or gid %d", u.Name, u.UID, u.GID)
	}
	input, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("privsep: encode input for %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	rr, rw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("privsep: %w", err)
	}
	defer rr.Close()

	tail := &tailBuffer{max: tailBytes}
	cmd := exec.Command(selfExe())
	cmd.Args = []string{"mb2md-" + name}
	cmd.Dir = "/"
	cmd.Env = childEnv(u, name, cfg.env)
	cmd.Stdin = bytes.NewReader(input)
	cmd.Stdout = io.MultiWriter(cfg.output, tail)
	cmd.Stderr = cmd.Stdout
	cmd.ExtraFiles = append([]*os.File{rw}, cfg.files...)
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = cfg.grace + time.Second
	if os.Geteuid() != u.UID || os.Getegid() != u.GID || os.Geteuid() == 0 {
		if os.Geteuid() != 0 {
			rw.Close()
			return fmt.Errorf("privsep: running as user %s (uid %d) needs root; run as root or as that user", u.Name, u.UID)
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID), Groups: []uint32{}}
	}

	// Pdeathsig fires when the thread that started the child ends: keep this goroutine on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		rw.Close()
		return fmt.Errorf("privsep: start child for user %s: %w", u.Name, err)
	}
	rw.Close()
	pgid := cmd.Process.Pid

	done := make(chan struct{})
	killed := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(cfg.grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			close(killed)
		}
	}()

	raw, readErr := io.ReadAll(io.LimitReader(rr, maxResultBytes+1))
	waitErr := cmd.Wait()
	close(done)

	if ctx.Err() != nil {
		return fmt.Errorf("privsep: user %s: %w", u.Name, ctx.Err())
	}
	ce := &ChildError{User: u.Name, Handler: name}
	if readErr != nil {
		ce.Msg = "read result: " + readErr.Error()
		return ce
	}
	if len(raw) > maxResultBytes {
		ce.Msg = fmt.Sprintf("result larger than %d bytes", maxResultBytes)
		return ce
	}
	var res result
	if len(raw) == 0 || json.Unmarshal(raw, &res) != nil {
		ce.Msg = "child gave no valid result"
		if waitErr != nil {
			ce.Msg = "child failed: " + waitErr.Error()
		}
		ce.Output = tail.String()
		return ce
	}
	if !res.OK {
		ce.Msg, ce.Codes = res.Error, res.Codes
		return ce
	}
	if waitErr != nil {
		ce.Msg = "child failed after its result: " + waitErr.Error()
		ce.Output = tail.String()
		return ce
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(res.Result))
		dec.DisallowUnknownFields()
		if err := dec.Decode(out); err != nil {
			ce.Msg = "decode result: " + err.Error()
			return ce
		}
	}
	return nil
}

func childEnv(u users.User, name string, extra []string) []string {
	env := []string{
		"HOME=" + u.Home,
		"USER=" + u.Name,
		"LOGNAME=" + u.Name,
		"PATH=/usr/bin:/bin",
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	env = append(env, extra...)
	return append(env, envChild+"="+name)
}

// childMode is set while a handler runs in a child.
var childMode bool

// IsChild reports whether this process is a privsep child.
func IsChild() bool { return childMode || os.Getenv(envChild) != "" }

// File returns the i-th file passed with WithFiles, in a child (nil elsewhere).
func File(i int) *os.File {
	if !IsChild() || i < 0 {
		return nil
	}
	fd := uintptr(firstExtraFD + i)
	var st syscall.Stat_t
	if syscall.Fstat(int(fd), &st) != nil {
		return nil
	}
	syscall.CloseOnExec(int(fd))
	return os.NewFile(fd, fmt.Sprintf("privsep-file-%d", i))
}

// MaybeChild runs the registered handler and returns (exit code, true) when this process is a
// privsep child; otherwise it returns (0, false) at once. The handler's ctx is cancelled on
// SIGTERM or SIGINT.
func MaybeChild() (int, bool) {
	name := os.Getenv(envChild)
	if name == "" {
		return 0, false
	}
	return runChild(name), true
}

func runChild(name string) int {
	childMode = true
	os.Unsetenv(envChild)         // so that programs the handler starts are not children themselves
	syscall.CloseOnExec(resultFD) // nor inherit the result pipe (the parent reads it to EOF)
	out := os.NewFile(resultFD, "privsep-result")
	if out == nil {
		fmt.Fprintln(os.Stderr, "mb2md: error: privsep child started without a result pipe")
		return 2
	}
	defer out.Close()
	mu.RLock()
	h := handlers[name]
	mu.RUnlock()
	if h == nil {
		return writeResult(out, nil, fmt.Errorf("privsep: no handler %q in this binary", name))
	}
	in, err := io.ReadAll(io.LimitReader(os.Stdin, maxInputBytes))
	if err != nil {
		return writeResult(out, nil, fmt.Errorf("privsep: read input: %w", err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	v, err := h(ctx, json.RawMessage(in))
	return writeResult(out, v, err)
}

func writeResult(out *os.File, v any, herr error) int {
	var res result
	if herr != nil {
		res.Error = herr.Error()
		mu.RLock()
		for code, target := range sentinels {
			if errors.Is(herr, target) {
				res.Codes = append(res.Codes, code)
			}
		}
		mu.RUnlock()
		sort.Strings(res.Codes)
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			res.Error = "privsep: encode result: " + err.Error()
		} else {
			res.OK, res.Result = true, b
		}
	}
	b, err := json.Marshal(res)
	if err == nil {
		_, err = out.Write(b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mb2md: error: privsep child: write result:", err)
		return 2
	}
	return 0
}

// tailBuffer keeps the last max bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
