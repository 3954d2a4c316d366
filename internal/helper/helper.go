// Package helper runs code that can crash the process (a vendor library
// loaded at run time: NVML) in a child process of thermal itself: the same
// binary, re-executed with an internal command (Command, then the helper's
// name). Not a shell-out: no shell, no other program. The child reads its
// request on stdin and streams one line per result on stdout, so that the
// parent keeps every result that arrived when the child crashes or hangs,
// and a crash costs the source that asked, never the beat.
package helper

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Command is the internal command a child is started with:
// `thermal __helper <name>`.
const Command = "__helper"

// Func is a helper's body in the child: it reads its request from in,
// writes its results to out (one line each), and returns the exit code.
type Func func(in io.Reader, out io.Writer) int

var (
	mu       sync.Mutex
	registry = map[string]Func{}
)

// Register makes f runnable as the helper name; from init.
func Register(name string, f Func) {
	mu.Lock()
	defer mu.Unlock()
	registry[name] = f
}

// Lookup returns the helper name.
func Lookup(name string) (Func, bool) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := registry[name]
	return f, ok
}

// Proc is a running helper.
type Proc struct {
	// Lines delivers each line the child writes, as it writes it; it is
	// closed when the child's output ends.
	Lines      <-chan []byte
	proc       *os.Process
	stderr     *tail
	stderrDone chan struct{} // the child's stderr is read to its end
	waited     chan struct{}
	state      *os.ProcessState
	err        error
}

// Start runs the helper name in a child of exe (this binary), with input
// on its stdin. The child is killed when ctx is done.
func Start(ctx context.Context, exe, name string, input []byte) (*Proc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	proc, err := os.StartProcess(exe, []string{exe, Command, name}, &os.ProcAttr{
		Files: []*os.File{inR, outW, errW},
		Env:   os.Environ(),
		Sys:   sysProcAttr(),
	})
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("starting the %s helper: %w", name, err)
	}
	p := &Proc{proc: proc, stderr: &tail{max: 4096}, waited: make(chan struct{}), stderrDone: make(chan struct{})}
	go func() {
		inW.Write(input)
		inW.Close()
	}()
	go func() {
		io.Copy(p.stderr, errR)
		errR.Close()
		close(p.stderrDone)
	}()
	lines := make(chan []byte, 16)
	p.Lines = lines
	go func() {
		defer close(lines)
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			lines <- bytes.Clone(sc.Bytes())
		}
	}()
	go func() {
		p.state, p.err = proc.Wait()
		close(p.waited)
	}()
	go func() {
		select {
		case <-ctx.Done():
			proc.Kill()
		case <-p.waited:
		}
	}()
	return p, nil
}

// Wait waits for the child to exit and says how it ended: nil for a clean
// exit, else an error naming the exit status or signal and the first line
// the child wrote on stderr (a crash trace's first line says what
// happened).
func (p *Proc) Wait() error {
	<-p.waited
	if p.err != nil {
		return p.err
	}
	if p.state.Success() {
		return nil
	}
	select { // what it said before it died, within reason
	case <-p.stderrDone:
	case <-time.After(100 * time.Millisecond):
	}
	msg := p.state.String() // "signal: segmentation fault", "exit status 2"
	if last := p.stderr.firstLine(); last != "" {
		msg += ": " + last
	}
	return fmt.Errorf("the helper process ended: %s", msg)
}

// Done is closed when the child has exited.
func (p *Proc) Done() <-chan struct{} { return p.waited }

// Kill stops the child at once.
func (p *Proc) Kill() { p.proc.Kill() }

// tail keeps the start of what a child writes on stderr, bounded: a crash
// trace is hundreds of lines, of which the first says what happened.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - len(t.buf); room > 0 {
		t.buf = append(t.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (t *tail) firstLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range bytes.Split(t.buf, []byte("\n")) {
		if l := bytes.TrimSpace(l); len(l) > 0 {
			return string(l)
		}
	}
	return ""
}
