//go:build unix

// Package harness runs the whole passwordless stack on the loopback interface, from the same
// construct that is deployed: it synthesizes passwordless.New with the given props, reads the
// functions' environment, timeouts and memory, the routes, the JWT authorizer, the user pool and
// app client settings (attribute read and write permissions included), the deployment secret
// and the key table from the template, builds the five bootstraps for this
// host with the construct's flags, and runs
//
//   - dynalite (lambdas/dynalitetest) with the key table as the template defines it;
//   - awsmock, the AWS endpoint the functions' AWS_ENDPOINT_URL points at (DynamoDB forwarded to
//     dynalite, SES and SNS captured, Cognito calls (admin calls, GetUser) forwarded to the
//     emulated pool, the deployment secret answered from a random value drawn at Start,
//     EventBridge PutEvents captured: the audit trail);
//   - idp, the emulated user pool, whose triggers invoke the built binaries through lambdarun;
//   - apigw, the HTTP API with its JWT authorizer, in front of the api function.
//
// The functions' embedded-metric-format lines are parsed into Metrics and their audit events
// decoded into AuditEvents (observe.go), as CloudWatch and EventBridge would see them.
//
// Apps and tests talk to it as to AWS: the cognitoidentityprovider SDK with BaseEndpoint =
// Harness.CognitoURL, and plain HTTP to Harness.APIURL with a bearer access token. Everything
// listens on 127.0.0.1; Close stops every process.
//
// The functions use real time; Options.Clock drives only the user pool (sessions, token times)
// and the API's authorizer.
package harness

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/apigw"
	"github.com/passwordless-go/cognito/infra/local/awsmock"
	"github.com/passwordless-go/cognito/infra/local/idp"
	"github.com/passwordless-go/cognito/infra/local/lambdarun"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/dynalitetest"
	"github.com/passwordless-go/cognito/lambdas/keyed"
)

// ModulePath is the module the harness builds the functions from.
const ModulePath = "github.com/passwordless-go/cognito"

func defaultMethods() []passwordless.Method {
	return []passwordless.Method{passwordless.EmailOTP, passwordless.SMSOTP, passwordless.DeviceKey}
}

// Options configure Start. Zero values take the defaults.
type Options struct {
	// Props to synthesize. nil: DefaultProps (email_otp, sms_otp, device_key; aliases email and
	// phone; Email.From "no-reply@example.com").
	Props *passwordless.Props
	// Root is the module root (default: the nearest directory at or above the working
	// directory with this module's go.mod).
	Root string
	// BinDir is where the bootstraps are built (default: a temporary directory removed by Close).
	BinDir string
	// Clock drives the user pool and the API's authorizer (default time.Now). The functions use
	// real time.
	Clock func() time.Time
	// TriggerTimeout is the user pool's trigger timeout (default 5 s, Cognito's).
	TriggerTimeout time.Duration
	// Log receives the functions' output and the pool's log lines (default: discarded; the
	// functions' latest output stays readable with Host.Logs).
	Log io.Writer
	// MaxConcurrency is each function's number of execution environments (default lambdarun's, 4).
	MaxConcurrency int
	// Env adds or replaces environment variables of the functions, by command ("create",
	// "api", ...), after the template's: e.g. short SEND_DELAYS so a test can wait them out.
	// nil: the template's environment only.
	Env map[string]map[string]string
}

// Startup breaks down how long Start took.
type Startup struct {
	Synth, Build, Dynalite, Total time.Duration
}

// Harness is a running local stack.
type Harness struct {
	// CognitoURL is the BaseEndpoint for the cognitoidentityprovider SDK client; it also serves
	// the JWKS at /{PoolID}/.well-known/jwks.json.
	CognitoURL string
	// APIURL is the base URL of the local HTTP API, without a trailing slash (the deployed stack's
	// ApiUrl output ends with one).
	APIURL string
	// JWKSURL is the pool's JSON Web Key Set.
	JWKSURL                  string
	PoolID, ClientID, Region string
	// TableName is the key table in dynalite.
	TableName string
	// SecretARN is the ARN the template's deployment secret resolves to ("" when the template
	// creates none); awsmock answers GetSecretValue for it with a value drawn from crypto/rand
	// at Start (awsmock.NewSecretValue), different for every harness. DeploymentSecret returns it.
	SecretARN string

	AWS    *awsmock.Server
	IdP    *idp.Pool
	API    *apigw.Router
	Hosts  map[string]*lambdarun.Host // "define", "create", "verify", "presignup", "api"
	Dynamo *dynalitetest.Server
	// Bootstraps are the built binaries by command.
	Bootstraps map[string]string
	// SigningKey signs the pool's tokens; tests use it to forge tokens the authorizer trusts (e.g.
	// for another app client of the same pool).
	SigningKey *rsa.PrivateKey
	// Spec is what was read from the template (environments resolved).
	Spec *Spec
	// Startup says how long Start took.
	Startup Startup

	tpl       map[string]any
	env       map[string]map[string]string
	obs       *observer // metrics from the functions' stdout (observe.go)
	inv       *invoker
	servers   []*http.Server
	removeDir string
	closeOnce sync.Once
	closeErr  error
}

// Start synthesizes, builds and starts everything. On error, whatever was started is stopped.
// ctx bounds the start only; the harness runs until Close.
func Start(ctx context.Context, o Options) (h *Harness, err error) {
	t0 := time.Now()
	if o.Props == nil {
		o.Props = DefaultProps()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Root == "" {
		if o.Root, err = FindRoot(); err != nil {
			return nil, err
		}
	}
	h = &Harness{Hosts: map[string]*lambdarun.Host{}, Bootstraps: map[string]string{}, env: map[string]map[string]string{}, obs: newObserver()}
	defer func() {
		if err != nil {
			h.Close()
			h = nil
		}
	}()
	if o.BinDir, h.removeDir, err = BinDir(o.BinDir, "harness-bin-"); err != nil {
		return h, err
	}

	// Synth, the five builds and dynalite, concurrently.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fail := func(e error) {
		mu.Lock()
		errs = append(errs, e)
		mu.Unlock()
	}
	wg.Add(2 + len(Commands))
	go func() {
		defer wg.Done()
		t := time.Now()
		tpl, err := Synthesize(o.Props)
		h.Startup.Synth = time.Since(t)
		if err != nil {
			fail(err)
			return
		}
		h.tpl = tpl
	}()
	go func() {
		defer wg.Done()
		t := time.Now()
		s, err := dynalitetest.Launch()
		h.Startup.Dynalite = time.Since(t)
		if err != nil {
			fail(fmt.Errorf("harness: dynalite: %w", err))
			return
		}
		mu.Lock()
		h.Dynamo = s
		mu.Unlock()
	}()
	tb := time.Now()
	for _, c := range Commands {
		go func() {
			defer wg.Done()
			p, err := lambdarun.Build(o.Root, c, o.BinDir)
			if err != nil {
				fail(fmt.Errorf("harness: build %s: %w", c, err))
				return
			}
			mu.Lock()
			h.Bootstraps[c] = p
			h.Startup.Build = max(h.Startup.Build, time.Since(tb))
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return h, errors.Join(errs...)
	}

	spec, err := ParseTemplate(h.tpl)
	if err != nil {
		return h, err
	}
	h.Spec = spec
	h.PoolID, h.ClientID = idp.DefaultPoolID, idp.DefaultClientID
	h.Region = strings.SplitN(h.PoolID, "_", 2)[0]
	h.TableName = LocalTableName
	if spec.SecretID != "" {
		if h.SecretARN, err = awsmock.SecretARN(h.Region, LocalAccount, spec.SecretID); err != nil {
			return h, err
		}
	}
	if err := spec.ResolveLocals(Locals{TableName: h.TableName, ClientID: h.ClientID, PoolID: h.PoolID, SecretARN: h.SecretARN,
		Region: h.Region, Account: LocalAccount}); err != nil {
		return h, err
	}
	for c := range o.Env {
		if spec.Functions[c] == nil {
			return h, fmt.Errorf("harness: Options.Env names %q, not one of %v", c, Commands)
		}
	}
	if spec.Table != nil {
		if err := CreateTable(ctx, h.Dynamo.Client(), tableInput(h.TableName, spec.Table), spec.Table.TTLAttribute); err != nil {
			return h, err
		}
	}

	// The AWS endpoint of the functions.
	if h.AWS, err = awsmock.Start(awsmock.Options{DynamoDB: h.Dynamo.Endpoint, Clock: o.Clock}); err != nil {
		return h, fmt.Errorf("harness: awsmock: %w", err)
	}
	if err := h.registerSecrets(spec); err != nil {
		return h, err
	}

	// The user pool, on its own listener (so awsmock's faults and call counts are the functions'
	// calls only).
	cogLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return h, err
	}
	h.CognitoURL = "http://" + cogLn.Addr().String()
	h.inv = &invoker{hosts: h.Hosts, drop: map[string]int{}}
	var aliases []idp.Alias
	for _, a := range spec.UsernameAttributes {
		switch a {
		case "email":
			aliases = append(aliases, idp.AliasEmail)
		case "phone_number":
			aliases = append(aliases, idp.AliasPhone)
		default:
			cogLn.Close()
			return h, fmt.Errorf("harness: unsupported username attribute %q", a)
		}
	}
	if h.SigningKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		cogLn.Close()
		return h, err
	}
	h.IdP, err = idp.New(idp.Config{
		PoolID:                     h.PoolID,
		ClientID:                   h.ClientID,
		Aliases:                    aliases,
		PreventUserExistenceErrors: idp.Bool(spec.PreventUserExistenceErrors),
		ReadAttributes:             spec.ClientReadAttributes,
		WriteAttributes:            spec.ClientWriteAttributes,
		Triggers: idp.Triggers{
			DefineAuthChallenge:         "define",
			CreateAuthChallenge:         "create",
			VerifyAuthChallengeResponse: "verify",
			PreSignUp:                   "presignup",
		},
		TriggerTimeout:       o.TriggerTimeout,
		AuthSessionValidity:  spec.AuthSessionValidity,
		AccessTokenValidity:  spec.AccessTokenValidity,
		IDTokenValidity:      spec.IDTokenValidity,
		RefreshTokenValidity: spec.RefreshTokenValidity,
		Clock:                o.Clock,
		IssuerBase:           h.CognitoURL,
		SigningKey:           h.SigningKey,
		Log:                  slog.New(slog.NewTextHandler(o.Log, nil)),
	}, h.inv)
	if err != nil {
		cogLn.Close()
		return h, err
	}
	h.JWKSURL = h.IdP.Issuer() + "/.well-known/jwks.json"
	h.serve(cogLn, h.IdP)
	h.AWS.SetCognito(h.IdP)

	// The functions.
	for _, c := range Commands {
		f := spec.Functions[c]
		env := map[string]string{}
		for k, v := range f.Env {
			env[k] = v
		}
		for k, v := range o.Env[c] {
			env[k] = v
		}
		env[awsconfig.EnvEndpoint] = h.AWS.URL()
		env["AWS_REGION"] = h.Region
		h.env[c] = env
		host, err := lambdarun.Start(context.Background(), lambdarun.Function{
			Name:           c,
			Path:           h.Bootstraps[c],
			Env:            env,
			Timeout:        f.Timeout,
			MemoryMB:       f.MemoryMB,
			MaxConcurrency: o.MaxConcurrency,
			Stdout:         h.obs.tap(c, o.Log), // EMF lines become Metrics (observe.go)
			Stderr:         o.Log,
		})
		if err != nil {
			return h, fmt.Errorf("harness: start %s: %w", c, err)
		}
		h.Hosts[c] = host
	}

	// The HTTP API.
	h.API, err = apigw.New(apigw.Config{
		Routes:   spec.Routes,
		Public:   spec.PublicRoutes,
		Issuer:   h.IdP.Issuer(),
		Audience: spec.ResolvedAudience,
		JWKS:     h.IdP.JWKS,
		Clock:    o.Clock,
		CORS:     spec.CORS,
	}, h.Hosts["api"])
	if err != nil {
		return h, fmt.Errorf("harness: apigw: %w", err)
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return h, err
	}
	h.APIURL = "http://" + apiLn.Addr().String()
	h.serve(apiLn, h.API)
	h.Startup.Total = time.Since(t0)
	return h, nil
}

// registerSecrets gives awsmock a fresh random value (crypto/rand) for the template's
// deployment secret and for every other secret ARN a function's DEPLOYMENT_SECRET_ARN names (a
// secret brought in through Props.DeploymentSecret by its full ARN).
func (h *Harness) registerSecrets(spec *Spec) error {
	arns := map[string]bool{}
	if h.SecretARN != "" {
		arns[h.SecretARN] = true
	}
	for _, c := range Commands {
		if v := spec.Functions[c].Env[keyed.EnvSecretARN]; v != "" {
			arns[v] = true
		}
	}
	for arn := range arns {
		v, err := awsmock.NewSecretValue()
		if err != nil {
			return err
		}
		if err := h.AWS.PutSecret(arn, v); err != nil {
			return fmt.Errorf("harness: deployment secret: %w", err)
		}
	}
	return nil
}

// DeploymentSecret returns the value awsmock holds for the deployment secret ("" when the
// template has none): tests derive what the functions derive from it.
func (h *Harness) DeploymentSecret() string {
	v, _ := h.AWS.SecretValue(h.SecretARN)
	return v
}

func (h *Harness) serve(ln net.Listener, handler http.Handler) {
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	h.servers = append(h.servers, srv)
	go srv.Serve(ln)
}

// Template returns the synthesized template the harness was built from (do not modify it).
func (h *Harness) Template() map[string]any { return h.tpl }

// Env returns the environment a function runs with (the template's, resolved, plus
// AWS_ENDPOINT_URL and AWS_REGION); a copy.
func (h *Harness) Env(command string) map[string]string {
	out := map[string]string{}
	for k, v := range h.env[command] {
		out[k] = v
	}
	return out
}

// DropResponses makes the next n invocations of the trigger function (command name) run
// normally but lose their answer on the way back, as a network failure between Lambda and
// Cognito would: the pool sees a transport error and retries the invocation, as Cognito does.
func (h *Harness) DropResponses(command string, n int) {
	h.inv.mu.Lock()
	h.inv.drop[command] += n
	h.inv.mu.Unlock()
}

// Close stops everything Start started. It is idempotent.
func (h *Harness) Close() error {
	if h == nil {
		return nil
	}
	h.closeOnce.Do(func() {
		var errs []error
		for _, s := range h.servers {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			if err := s.Shutdown(ctx); err != nil {
				s.Close()
			}
			cancel()
		}
		var wg sync.WaitGroup
		for _, host := range h.Hosts {
			wg.Add(1)
			go func() { defer wg.Done(); host.Close() }()
		}
		wg.Wait()
		if h.AWS != nil {
			errs = append(errs, h.AWS.Close())
		}
		if h.Dynamo != nil {
			errs = append(errs, h.Dynamo.Close())
		}
		if h.removeDir != "" {
			errs = append(errs, os.RemoveAll(h.removeDir))
		}
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}

// invoker is the pool's Invoker: trigger function names are the commands of the Hosts. It turns
// lambdarun's outcomes into what Lambda's synchronous Invoke tells Cognito: a function error, a
// crash (Runtime.ExitError) and a function timeout are function errors (not retried).
type invoker struct {
	hosts map[string]*lambdarun.Host
	mu    sync.Mutex
	drop  map[string]int
}

// errDropped is the transport error of an answer lost by DropResponses.
var errDropped = errors.New("harness: the function's response was lost (DropResponses)")

func (i *invoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	host := i.hosts[function]
	if host == nil {
		return nil, fmt.Errorf("ResourceNotFoundException: Function not found: %s", function)
	}
	out, err := host.Invoke(ctx, payload)
	i.mu.Lock()
	dropped := i.drop[function] > 0
	if dropped {
		i.drop[function]--
	}
	i.mu.Unlock()
	if dropped {
		return nil, errDropped
	}
	return InvokeResult(out, err)
}

// InvokeResult turns what lambdarun.Host.Invoke returned into what Lambda's synchronous Invoke
// tells its caller (idp.Invoker's contract): a function error, a crash (Runtime.ExitError) and a
// function timeout (Sandbox.Timedout) become *idp.FunctionError; other errors stay as they are.
func InvokeResult(out []byte, err error) ([]byte, error) {
	var fe *lambdarun.FunctionError
	var ce *lambdarun.CrashError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &fe):
		return nil, &idp.FunctionError{Type: fe.Type, Message: fe.Message}
	case errors.As(err, &ce):
		return nil, &idp.FunctionError{Type: "Runtime.ExitError", Message: ce.Error()}
	case errors.Is(err, lambdarun.ErrTimeout):
		return nil, &idp.FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out"}
	}
	return nil, err
}

// BinDir returns dir when it is set; when dir is empty, it makes a new temporary directory named
// after prefix and returns it as both bin and remove, the directory the caller deletes when it
// closes (remove is "" for a dir the caller was given).
func BinDir(dir, prefix string) (bin, remove string, err error) {
	if dir != "" {
		return dir, "", nil
	}
	if bin, err = os.MkdirTemp("", prefix); err != nil {
		return "", "", err
	}
	return bin, bin, nil
}

// FindRoot returns the nearest directory at or above the working directory whose go.mod declares
// this module.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module "+ModulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("harness: no go.mod of %s at or above the working directory (set Options.Root)", ModulePath)
		}
		dir = parent
	}
}

// tableInput is the CreateTable request for the table t describes, named name.
func tableInput(name string, t *TableSpec) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	ks := func(l []KeyElement) []types.KeySchemaElement {
		var out []types.KeySchemaElement
		for _, k := range l {
			out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.Type)})
		}
		return out
	}
	in.KeySchema = ks(t.KeySchema)
	for _, a := range t.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.Name), AttributeType: types.ScalarAttributeType(a.Type)})
	}
	for _, g := range t.GSIs {
		p := &types.Projection{ProjectionType: types.ProjectionType(g.ProjectionType)}
		if len(g.NonKeyAttributes) > 0 {
			p.NonKeyAttributes = g.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: aws.String(g.Name), KeySchema: ks(g.KeySchema), Projection: p})
	}
	return in
}

// CreateTable creates the table in describes, enables time to live on ttlAttribute (unless it is
// empty) and waits until the table and its global secondary indexes are ACTIVE, for at most 15
// seconds.
func CreateTable(ctx context.Context, c *dynamodb.Client, in *dynamodb.CreateTableInput, ttlAttribute string) error {
	name := aws.ToString(in.TableName)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := c.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("harness: create table: %w", err)
	}
	if ttlAttribute != "" {
		if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(ttlAttribute), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("harness: table TTL: %w", err)
		}
	}
	for {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("harness: describe table: %w", err)
		}
		ready := out.Table.TableStatus == types.TableStatusActive
		for _, g := range out.Table.GlobalSecondaryIndexes {
			ready = ready && g.IndexStatus == types.IndexStatusActive
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("harness: table %s not ACTIVE: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
