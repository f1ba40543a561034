//go:build unix

// Package perf measures the five functions as they ship (issue #7): cold start (exec to the first
// GET /runtime/invocation/next, through infra/local/lambdarun) with the environment the construct
// gives each function, peak RSS after warm invocations with realistic events, and the size of the
// linux/arm64 bootstraps; and the same cold start for a minimal Node.js function with the AWS SDK
// for JavaScript v3, for comparison.
//
// Every AWS call goes to AWS_ENDPOINT_URL, an awsmock server (DynamoDB forwarded to dynalite, SES
// and SNS captured, the deployment secret answered), so nothing reaches the network. Each cold
// start is a fresh process on its own lambdarun.Host, and the event it gets makes no AWS call in
// any function but the deployment secret's read (keyed.SecretsManager reads it on an instance's
// first request, by design), so every other awsmock call counted across a cold start came from
// init: Cold.InitCalls must be 0.
//
// The command infra/cmd/bench and the benchmarks and tests of this package share these functions.
package perf

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/harness"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// ModulePath is the module whose functions are measured.
const ModulePath = harness.ModulePath

// Region is AWS_REGION of every function.
const Region = dynalitetest.Region

// Functions are the construct's five functions, by their lambdas/cmd directory.
var Functions = []string{"define", "create", "verify", "presignup", "api"}

// Options configure Start. Zero values take the defaults.
type Options struct {
	// Root is the module root (default: harness.FindRoot).
	Root string
	// BinDir receives the host bootstraps and the Node.js script (default: a temporary directory
	// removed by Close).
	BinDir string
	// Dynamo is the dynalite to use (default: one launched by Start and stopped by Close).
	Dynamo *dynalitetest.Server
	// Props are the construct props whose environment the functions get (default DefaultProps).
	Props *passwordless.Props
	// Log receives the functions' output (default: discarded; errors quote its tail).
	Log io.Writer
}

// Rig is the measured functions, built for this host, and the local AWS they call.
type Rig struct {
	Root string
	// Bins are the host bootstraps by function.
	Bins map[string]string
	// Env is each function's environment: ConstructEnv plus AWS_ENDPOINT_URL and AWS_REGION.
	Env map[string]map[string]string
	// MemoryMB is the construct's memory size.
	MemoryMB int
	AWS      *awsmock.Server
	Dynamo   *dynalitetest.Server
	// Table is the key table in dynalite, created from store.TableDefinition.
	Table string
	// Store reads and writes Table directly (not through awsmock, so setup is not counted).
	Store *store.Store

	binDir    string
	removeDir string
	ownDynamo bool
	log       io.Writer
	seq       sync.Mutex
	n         int // workload counter: unique recipients and sessions
	closeOnce sync.Once
	closeErr  error
}

// Start builds the five functions for this host with the construct's flags (lambdarun.Build),
// starts dynalite (unless given), creates the key table and starts awsmock. On error whatever was
// started is stopped.
func Start(ctx context.Context, o Options) (r *Rig, err error) {
	if o.Root == "" {
		if o.Root, err = harness.FindRoot(); err != nil {
			return nil, err
		}
	}
	props := DefaultProps()
	if o.Props != nil {
		props = *o.Props
	}
	r = &Rig{Root: o.Root, Bins: map[string]string{}, Dynamo: o.Dynamo, log: o.Log, MemoryMB: props.WithDefaults().MemorySize}
	defer func() {
		if err != nil {
			r.Close()
			r = nil
		}
	}()
	if o.BinDir, r.removeDir, err = harness.BinDir(o.BinDir, "perf-bin-"); err != nil {
		return r, err
	}
	r.binDir = o.BinDir

	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	if r.Dynamo == nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := dynalitetest.Launch()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("perf: dynalite: %w", err))
				return
			}
			r.Dynamo, r.ownDynamo = s, true
		}()
	}
	for _, c := range Functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := lambdarun.Build(r.Root, c, filepath.Join(r.binDir, "host"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			r.Bins[c] = p
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return r, errors.Join(errs...)
	}

	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	r.Table = "passwordless-perf-" + hex.EncodeToString(suffix[:])
	if err := harness.CreateTable(ctx, r.Dynamo.Client(), store.TableDefinition(r.Table), store.TTLAttribute); err != nil {
		return r, err
	}
	r.Store = store.New(r.Dynamo.Client(), r.Table)
	r.AWS, err = awsmock.Start(awsmock.Options{
		DynamoDB: r.Dynamo.Endpoint,
		Log:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return r, fmt.Errorf("perf: awsmock: %w", err)
	}
	// The deployment secret: a random value awsmock answers GetSecretValue with (the functions
	// read it on their first request, never at init).
	secretARN, err := awsmock.SecretARN(Region, harness.LocalAccount, "PerfDeploymentSecret")
	if err != nil {
		return r, err
	}
	secret, err := awsmock.NewSecretValue()
	if err != nil {
		return r, err
	}
	if err := r.AWS.PutSecret(secretARN, secret); err != nil {
		return r, err
	}
	env, err := ConstructEnv(props, Names{Table: r.Table, ClientID: ClientID, ConfigurationSet: ConfigurationSet, PoolID: PoolID, SecretARN: secretARN})
	if err != nil {
		return r, err
	}
	for _, c := range Functions {
		env[c][awsconfig.EnvEndpoint] = r.AWS.URL()
		env[c]["AWS_REGION"] = Region
	}
	r.Env = env
	return r, nil
}

// Function is the lambdarun configuration of one of Functions: its host bootstrap, its
// environment, the construct's memory size, one execution environment.
func (r *Rig) Function(name string) (lambdarun.Function, error) {
	path, ok := r.Bins[name]
	if !ok {
		return lambdarun.Function{}, fmt.Errorf("perf: unknown function %q", name)
	}
	return lambdarun.Function{
		Name:           name,
		Path:           path,
		Env:            maps.Clone(r.Env[name]),
		MemoryMB:       r.MemoryMB,
		MaxConcurrency: 1,
		Stdout:         r.log,
		Stderr:         r.log,
	}, nil
}

// Calls is the number of requests awsmock has received so far, all services.
func (r *Rig) Calls() int {
	n := 0
	for _, c := range r.AWS.Calls() {
		n += c
	}
	return n
}

// next returns a number unique within the Rig (recipients, sessions).
func (r *Rig) next() int {
	r.seq.Lock()
	defer r.seq.Unlock()
	r.n++
	return r.n
}

// Close stops awsmock and the dynalite Start launched and removes the temporary directory. It is
// idempotent.
func (r *Rig) Close() error {
	if r == nil {
		return nil
	}
	r.closeOnce.Do(func() {
		var errs []error
		if r.AWS != nil {
			errs = append(errs, r.AWS.Close())
		}
		if r.ownDynamo && r.Dynamo != nil {
			errs = append(errs, r.Dynamo.Close())
		} else if r.Dynamo != nil && r.Table != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = r.Dynamo.Client().DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(r.Table)})
			cancel()
		}
		if r.removeDir != "" {
			errs = append(errs, os.RemoveAll(r.removeDir))
		}
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// logTail is the last lines of a Host's output, for error messages.
func logTail(h *lambdarun.Host) string {
	s := strings.TrimSpace(h.Logs())
	lines := strings.Split(s, "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	if s == "" {
		return ""
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}
