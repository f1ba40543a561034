// Package dynalitetest runs dynalite, a DynamoDB-compatible server written in
// Node.js, on the loopback interface for tests.
//
// The server keeps its data in memory only. It is reached through a small
// in-process HTTP proxy that forwards every request to dynalite unchanged,
// except for two operations dynalite 4.0.0 does not implement:
//
//   - TransactWriteItems is emulated: the proxy serialises it against all other
//     requests, applies each action with the matching single-item operation,
//     and rolls every applied action back if any condition failed, answering
//     with a TransactionCanceledException carrying one cancellation reason per
//     action, as DynamoDB does. Two actions on the same item are rejected with
//     a ValidationException, as DynamoDB does.
//   - UpdateTimeToLive is accepted and ignored (dynalite never expires items).
//
// Locating dynalite: the DYNALITE_BIN environment variable if set; otherwise
// <module root>/.tools/node_modules/.bin/dynalite, where the module root is the
// nearest directory at or above the working directory holding a go.mod;
// otherwise dynalite on PATH. Install it with
//
//	npm install --prefix .tools --no-save --no-audit --no-fund dynalite@4.0.0
//
// When dynalite cannot be found, [Start] and [Shared] skip the test, unless the
// environment variable REQUIRE_DYNALITE is "1", in which case they fail it.
package dynalitetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Environment variables read by this package.
const (
	// EnvBinary names the variable holding an explicit path to the dynalite
	// executable. When set, no other location is tried.
	EnvBinary = "DYNALITE_BIN"
	// EnvRequire names the variable that, when "1", turns a missing dynalite
	// into a test failure instead of a skip.
	EnvRequire = "REQUIRE_DYNALITE"
)

// Region is the AWS region the clients returned by [Server.Client] use.
const Region = "us-east-1"

// StartTimeout bounds how long [Launch] waits for dynalite to answer.
const StartTimeout = 15 * time.Second

// ErrNotInstalled reports that the dynalite executable (or the node runtime
// it needs) could not be found.
var ErrNotInstalled = errors.New("dynalitetest: dynalite is not installed")

// BinaryPath returns the path of the dynalite executable, looked up as
// described in the package documentation. The error wraps [ErrNotInstalled]
// when nothing usable was found.
func BinaryPath() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := usable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%q: %v", ErrNotInstalled, EnvBinary, p, err)
		}
		return p, nil
	}
	var tried []string
	if root, ok := moduleRoot(); ok {
		p := filepath.Join(root, ".tools", "node_modules", ".bin", "dynalite")
		if err := usable(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("dynalite"); err == nil {
		if err := usable(p); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrNotInstalled, p, err)
		}
		return p, nil
	}
	tried = append(tried, "dynalite on PATH")
	return "", fmt.Errorf("%w (tried %s; install with `npm install --prefix .tools --no-save --no-audit --no-fund dynalite@4.0.0` at the module root, or set %s)",
		ErrNotInstalled, strings.Join(tried, ", "), EnvBinary)
}

// usable reports why p cannot be run: missing, a directory, or a node script
// while node is not on PATH.
func usable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("#!")) {
		line, _, _ := bytes.Cut(head, []byte("\n"))
		if bytes.Contains(line, []byte("node")) {
			if _, err := exec.LookPath("node"); err != nil {
				return errors.New("node is not on PATH")
			}
		}
	}
	return nil
}

// moduleRoot walks up from the working directory to the nearest go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Server is a running dynalite process and the proxy in front of it.
type Server struct {
	// Endpoint is the base URL clients should use, e.g.
	// "http://127.0.0.1:40123". It serves the emulated operations described
	// in the package documentation.
	Endpoint string
	// DynaliteEndpoint is dynalite's own base URL, without the emulation.
	DynaliteEndpoint string

	cmd      *exec.Cmd
	exited   chan struct{}
	output   *tailBuffer
	proxy    *http.Server
	upstream *http.Transport

	clientOnce sync.Once
	client     *dynamodb.Client

	closeOnce sync.Once
	closeErr  error
}

// Launch starts dynalite on a free loopback port, in memory, waits until it
// answers (at most [StartTimeout]) and starts the proxy. The caller must call
// [Server.Close]. Tests should prefer [Start] or [Shared]. The error wraps
// [ErrNotInstalled] when dynalite could not be found.
func Launch() (*Server, error) {
	bin, err := BinaryPath()
	if err != nil {
		return nil, err
	}
	var lastErr error
	// A port picked free can be taken before dynalite binds it; try again.
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("dynalitetest: pick a port: %w", err)
	}
	out := &tailBuffer{max: 8 << 10}
	cmd := exec.Command(bin,
		"--host", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--createTableMs", "0",
		"--deleteTableMs", "0",
		"--updateTableMs", "0",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dynalitetest: start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s := &Server{
		DynaliteEndpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:              cmd,
		exited:           exited,
		output:           out,
	}
	if err := s.waitReady(); err != nil {
		s.stopProcess()
		return nil, err
	}
	if err := s.startProxy(); err != nil {
		s.stopProcess()
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) waitReady() error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(StartTimeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("dynalitetest: dynalite exited before answering (%s); output:\n%s",
				s.cmd.ProcessState, s.output.String())
		default:
		}
		resp, err := hc.Get(s.DynaliteEndpoint + "/")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.HasPrefix(body, []byte("healthy")) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dynalitetest: dynalite did not answer on %s within %s; output:\n%s",
				s.DynaliteEndpoint, StartTimeout, s.output.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (s *Server) startProxy() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("dynalitetest: listen for proxy: %w", err)
	}
	s.upstream = &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	p := &proxy{
		upstream: s.DynaliteEndpoint,
		client:   &http.Client{Transport: s.upstream, Timeout: 30 * time.Second},
	}
	s.proxy = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	s.Endpoint = "http://" + l.Addr().String()
	go func() { _ = s.proxy.Serve(l) }()
	return nil
}

// Client returns a DynamoDB client for the server: region [Region], static
// dummy credentials, BaseEndpoint set to [Server.Endpoint]. No environment
// variables or shared AWS config files are read. The same client is returned
// on every call; it is safe for concurrent use.
func (s *Server) Client() *dynamodb.Client {
	s.clientOnce.Do(func() {
		cfg := aws.Config{
			Region: Region,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{
					AccessKeyID:     "dynalitetest",
					SecretAccessKey: "dynalitetest",
					Source:          "dynalitetest",
				}, nil
			}),
		}
		s.client = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(s.Endpoint)
		})
	})
	return s.client
}

// Close stops the proxy and kills dynalite's process group. It is safe to
// call more than once and on a nil Server.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		if s.proxy != nil {
			s.closeErr = s.proxy.Close()
		}
		if s.upstream != nil {
			s.upstream.CloseIdleConnections()
		}
		s.stopProcess()
	})
	return s.closeErr
}

func (s *Server) stopProcess() {
	killTree(s.cmd)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
}

// tailBuffer keeps the last max bytes written to it.
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
