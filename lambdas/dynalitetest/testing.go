package dynalitetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableTimeout bounds how long [NewTable] waits for a table to become ACTIVE.
const TableTimeout = 15 * time.Second

// Start launches a server for this test alone and stops it when the test
// and its subtests finish. If dynalite is not installed the test is skipped,
// or failed when REQUIRE_DYNALITE=1; any other start failure fails the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := Launch()
	if err != nil {
		bail(tb, err)
		return nil
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

var shared struct {
	mu      sync.Mutex
	started bool
	srv     *Server
	err     error
}

// Shared returns the server shared by the whole test binary, launching it on
// first use; a failed launch is remembered and reported to every caller in
// the same way as [Start] does (skip or fail). The server lives until [Stop],
// so a package using Shared should stop it from TestMain, most simply with
// [Main]. (On Linux dynalite is also killed if the test binary dies.)
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.mu.Lock()
	if !shared.started {
		shared.started = true
		shared.srv, shared.err = Launch()
	}
	s, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		bail(tb, err)
		return nil
	}
	return s
}

// Stop stops the server started by [Shared], if any. A later [Shared] call
// starts a new one.
func Stop() {
	shared.mu.Lock()
	s := shared.srv
	shared.srv, shared.err, shared.started = nil, nil, false
	shared.mu.Unlock()
	_ = s.Close()
}

// Main runs the tests, stops the shared server and exits; use it as
//
//	func TestMain(m *testing.M) { dynalitetest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Require skips the test when dynalite is not installed (see [BinaryPath]), or fails it when
// REQUIRE_DYNALITE=1, exactly as [Start] and [Shared] do. It is for tests that need dynalite
// but start it indirectly (a harness that launches its own server), before they spend time on
// anything else.
func Require(tb testing.TB) {
	tb.Helper()
	if _, err := BinaryPath(); err != nil {
		bail(tb, err)
	}
}

func bail(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotInstalled) && os.Getenv(EnvRequire) != "1" {
		tb.Skipf("skipping: %v (set %s=1 to make this a failure)", err, EnvRequire)
		return
	}
	tb.Fatal(err)
}

// NewTable creates a table from input under a unique name (input.TableName,
// default "test", plus a random suffix), waits until it and its indexes are
// ACTIVE (at most [TableTimeout]), registers its deletion as test cleanup and
// returns the name. input is not modified. Any failure fails the test.
func NewTable(tb testing.TB, client *dynamodb.Client, input *dynamodb.CreateTableInput) string {
	tb.Helper()
	if client == nil || input == nil {
		tb.Fatal("dynalitetest.NewTable: nil client or input")
		return ""
	}
	base := aws.ToString(input.TableName)
	if base == "" {
		base = "test"
	}
	if len(base) > 200 {
		base = base[:200]
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := base + "-" + hex.EncodeToString(suffix[:])

	in := *input
	in.TableName = aws.String(name)
	ctx, cancel := context.WithTimeout(context.Background(), TableTimeout)
	defer cancel()
	if _, err := client.CreateTable(ctx, &in); err != nil && !isInUse(err) {
		// The name is random, so "in use" can only be this call's own first attempt, which the
		// SDK retried after its response was slow on a busy machine: the table exists.
		tb.Fatalf("dynalitetest.NewTable: create %s: %v", name, err)
		return ""
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			tb.Fatalf("dynalitetest.NewTable: describe %s: %v", name, err)
			return ""
		}
		if active(out.Table) {
			return name
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("dynalitetest.NewTable: %s not ACTIVE within %s", name, TableTimeout)
			return ""
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

func isInUse(err error) bool {
	var e *types.ResourceInUseException
	return errors.As(err, &e)
}

// AtOnce runs n calls of f in goroutines that all wait at one barrier before calling, so that
// they reach the store as nearly together as the machine allows, and returns their results by
// index. Race tests assert on the results (counts), never on timing.
func AtOnce[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = f(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}
