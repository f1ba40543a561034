package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/cfn"
	"github.com/passwordless-go/cognito/constructs/passwordless"
	"github.com/passwordless-go/cognito/infra/local/apigw"
)

// Commands are the five functions of the construct, by their lambdas/cmd directory.
var Commands = []string{"define", "create", "verify", "presignup", "api"}

// Local values the template's references resolve to.
const (
	// LocalConfigurationSet is what a {"Ref"} of the SES configuration set becomes.
	LocalConfigurationSet = "local-configuration-set"
	// LocalTableName is the key table's name in dynalite.
	LocalTableName = "passwordless-local-keys"
	// LocalAccount is the AWS account of the ARNs the harness makes up (the deployment secret's).
	LocalAccount = "000000000000"

	stackName = "PasswordlessLocal"
)

// Synthesize synthesizes the construct with props into a fresh App (bundling skipped, version
// reporting off) and returns the stack's template. A panic of the construct (bad props) becomes
// an error.
func Synthesize(props *passwordless.Props) (tpl map[string]any, err error) {
	dir, err := os.MkdirTemp("", "harness-synth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer func() {
		if r := recover(); r != nil {
			tpl, err = nil, fmt.Errorf("harness: synth: %v", r)
		}
	}()
	ctx := map[string]any{
		"aws:cdk:version-reporting": false,
		"aws:cdk:bundling-stacks":   []string{},
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
	stack := awscdk.NewStack(app, jsii.String(stackName), nil)
	passwordless.New(stack, jsii.String("Passwordless"), props)
	out := *app.Synth(nil).Directory()
	return readTemplate(filepath.Join(out, stackName+".template.json"))
}

// readTemplate reads and parses the CloudFormation template file at path.
func readTemplate(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("harness: read template: %w", err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		return nil, fmt.Errorf("harness: parse template: %w", err)
	}
	return tpl, nil
}

// DefaultProps are the props Start synthesizes when Options.Props is nil.
func DefaultProps() *passwordless.Props {
	return &passwordless.Props{
		Methods: defaultMethods(),
		Aliases: passwordless.Aliases{Email: true, Phone: true},
		Email:   &passwordless.EmailProps{From: "no-reply@example.com"},
		// The tests' phone numbers are US numbers, which need a registered origination number
		// (the construct refuses US without one); this one is a made-up toll-free number.
		SMS: passwordless.SMSProps{AllowedCountries: []string{"US"}, OriginationNumber: "+18885550123"},
	}
}

// FunctionSpec is one function as the template configures it.
type FunctionSpec struct {
	Command   string            // lambdas/cmd directory: define, create, verify, presignup, api
	LogicalID string            // the AWS::Lambda::Function resource
	Env       map[string]string // resolved Environment.Variables
	Timeout   time.Duration
	MemoryMB  int
	rawEnv    map[string]any
}

// TableSpec is the key table's definition.
type TableSpec struct {
	LogicalID            string
	KeySchema            []KeyElement
	AttributeDefinitions []AttributeDefinition
	GSIs                 []GSI
	TTLAttribute         string
}

// KeyElement is a KeySchema entry.
type KeyElement struct{ Name, Type string } // Type HASH or RANGE

// AttributeDefinition is an AttributeDefinitions entry.
type AttributeDefinition struct{ Name, Type string } // Type S, N or B

// GSI is a global secondary index.
type GSI struct {
	Name             string
	KeySchema        []KeyElement
	ProjectionType   string
	NonKeyAttributes []string
}

// Spec is what the harness reads from the template.
type Spec struct {
	Functions map[string]*FunctionSpec // by command
	Table     *TableSpec               // nil when the stack has no table
	// Logical IDs of the resources references resolve to. SecretID is the deployment secret
	// (AWS::SecretsManager::Secret), "" when the template creates none.
	ClientID, ConfigurationSetID, PoolID, SecretID string
	// EventBuses are the template's AWS::Events::EventBus resources (an audit bus of the
	// stack), logical ID to Name.
	EventBuses   map[string]string
	Routes       []string
	PublicRoutes []string // routes without the JWT authorizer
	// CORS is the HTTP API's CorsConfiguration, nil when the template has none (API Gateway
	// then answers no preflight and adds no CORS headers).
	CORS *apigw.CORS
	// Audience is the authorizer's audience as in the template; ResolvedAudience after Resolve.
	Audience         []any
	ResolvedAudience []string
	// User pool and app client settings. ClientReadAttributes and ClientWriteAttributes are the
	// app client's ReadAttributes and WriteAttributes, nil when the template leaves them out
	// (Cognito's defaults).
	ClientReadAttributes, ClientWriteAttributes []string
	UsernameAttributes                          []string
	PreventUserExistenceErrors                  bool
	AuthSessionValidity                         time.Duration
	AccessTokenValidity, IDTokenValidity        time.Duration
	RefreshTokenValidity                        time.Duration
}

func only(tpl map[string]any, typ string) (string, map[string]any, error) {
	rs := cfn.Resources(tpl, typ)
	if len(rs) != 1 {
		return "", nil, fmt.Errorf("harness: template has %d %s resources, want 1", len(rs), typ)
	}
	for id, p := range rs {
		return id, p, nil
	}
	panic("unreachable")
}

// ParseTemplate reads the harness's Spec from a synthesized template. References are not yet
// resolved (see Spec.Resolve).
func ParseTemplate(tpl map[string]any) (*Spec, error) {
	s := &Spec{Functions: map[string]*FunctionSpec{}, PreventUserExistenceErrors: true}
	for id, p := range cfn.Resources(tpl, "AWS::Lambda::Function") {
		desc, _ := p["Description"].(string)
		cmd, ok := strings.CutPrefix(desc, "passwordless ")
		if !ok {
			continue
		}
		if s.Functions[cmd] != nil {
			return nil, fmt.Errorf("harness: two functions for %q", cmd)
		}
		f := &FunctionSpec{Command: cmd, LogicalID: id, Timeout: time.Duration(passwordless.TriggerTimeoutSeconds) * time.Second, MemoryMB: passwordless.DefaultMemorySize}
		if n, ok := p["Timeout"].(float64); ok {
			f.Timeout = time.Duration(n * float64(time.Second))
		}
		if n, ok := p["MemorySize"].(float64); ok {
			f.MemoryMB = int(n)
		}
		if env, ok := p["Environment"].(map[string]any); ok {
			f.rawEnv, _ = env["Variables"].(map[string]any)
		}
		s.Functions[cmd] = f
	}
	for _, c := range Commands {
		if s.Functions[c] == nil {
			return nil, fmt.Errorf("harness: template has no function for %q (Description \"passwordless %s\")", c, c)
		}
	}

	if id, p, err := only(tpl, "AWS::Cognito::UserPoolClient"); err != nil {
		return nil, err
	} else {
		s.ClientID = id
		s.AuthSessionValidity = minutes(p["AuthSessionValidity"], 3*time.Minute)
		units, _ := p["TokenValidityUnits"].(map[string]any)
		s.AccessTokenValidity = validity(p["AccessTokenValidity"], units["AccessToken"], time.Hour)
		s.IDTokenValidity = validity(p["IdTokenValidity"], units["IdToken"], time.Hour)
		s.RefreshTokenValidity = validity(p["RefreshTokenValidity"], units["RefreshToken"], 24*time.Hour)
		if v, ok := p["PreventUserExistenceErrors"].(string); ok {
			s.PreventUserExistenceErrors = v == "ENABLED"
		}
		if s.ClientReadAttributes, err = stringList(p, "ReadAttributes"); err != nil {
			return nil, err
		}
		if s.ClientWriteAttributes, err = stringList(p, "WriteAttributes"); err != nil {
			return nil, err
		}
	}
	if pools := cfn.Resources(tpl, "AWS::Cognito::UserPool"); len(pools) == 1 {
		for id, p := range pools {
			s.PoolID = id
			for _, a := range asList(p["UsernameAttributes"]) {
				if str, ok := a.(string); ok {
					s.UsernameAttributes = append(s.UsernameAttributes, str)
				}
			}
		}
	}
	switch secrets := cfn.Resources(tpl, "AWS::SecretsManager::Secret"); len(secrets) {
	case 0:
	case 1:
		for id := range secrets {
			s.SecretID = id
		}
	default:
		return nil, fmt.Errorf("harness: template has %d Secrets Manager secrets, want at most 1", len(secrets))
	}
	for id, p := range cfn.Resources(tpl, "AWS::Events::EventBus") {
		if name, ok := p["Name"].(string); ok {
			if s.EventBuses == nil {
				s.EventBuses = map[string]string{}
			}
			s.EventBuses[id] = name
		}
	}
	if sets := cfn.Resources(tpl, "AWS::SES::ConfigurationSet"); len(sets) == 1 {
		for id := range sets {
			s.ConfigurationSetID = id
		}
	}
	if tables := cfn.Resources(tpl, "AWS::DynamoDB::Table"); len(tables) > 1 {
		return nil, errors.New("harness: template has more than one DynamoDB table")
	} else {
		for id, p := range tables {
			t, err := parseTable(id, p)
			if err != nil {
				return nil, err
			}
			s.Table = t
		}
	}
	for _, p := range cfn.Resources(tpl, "AWS::ApiGatewayV2::Route") {
		if k, ok := p["RouteKey"].(string); ok {
			s.Routes = append(s.Routes, k)
			if p["AuthorizationType"] == "NONE" {
				s.PublicRoutes = append(s.PublicRoutes, k)
			}
		}
	}
	sort.Strings(s.Routes)
	sort.Strings(s.PublicRoutes)
	if apis := cfn.Resources(tpl, "AWS::ApiGatewayV2::Api"); len(apis) > 1 {
		return nil, fmt.Errorf("harness: template has %d HTTP APIs, want at most 1", len(apis))
	} else {
		for _, p := range apis {
			if raw, ok := p["CorsConfiguration"].(map[string]any); ok {
				c, err := apigw.ParseCORS(raw)
				if err != nil {
					return nil, fmt.Errorf("harness: %w", err)
				}
				s.CORS = c
			}
		}
	}
	if _, p, err := only(tpl, "AWS::ApiGatewayV2::Authorizer"); err != nil {
		return nil, err
	} else {
		jc, _ := p["JwtConfiguration"].(map[string]any)
		s.Audience = asList(jc["Audience"])
		if len(s.Audience) == 0 {
			return nil, errors.New("harness: the JWT authorizer has no audience")
		}
	}
	return s, nil
}

// stringList reads the list of strings p[key]: nil when absent, an error when it holds anything
// but strings (e.g. an unresolved token).
func stringList(p map[string]any, key string) ([]string, error) {
	v, ok := p[key]
	if !ok {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("harness: app client %s is not a list: %v", key, v)
	}
	out := []string{}
	for _, e := range l {
		str, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("harness: app client %s holds %v, not a string", key, e)
		}
		out = append(out, str)
	}
	return out, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func minutes(v any, def time.Duration) time.Duration {
	if n, ok := v.(float64); ok && n > 0 {
		return time.Duration(n * float64(time.Minute))
	}
	return def
}

// validity converts a token validity with its unit (CloudFormation's defaults: hours for access
// and ID tokens, days for refresh tokens, when no unit is given).
func validity(v, unit any, defUnit time.Duration) time.Duration {
	n, ok := v.(float64)
	if !ok || n <= 0 {
		return 0 // idp default
	}
	u := defUnit
	switch unit {
	case "seconds":
		u = time.Second
	case "minutes":
		u = time.Minute
	case "hours":
		u = time.Hour
	case "days":
		u = 24 * time.Hour
	}
	return time.Duration(math.Round(n * float64(u)))
}

func keySchema(v any) ([]KeyElement, error) {
	var out []KeyElement
	for _, e := range asList(v) {
		m, _ := e.(map[string]any)
		name, _ := m["AttributeName"].(string)
		typ, _ := m["KeyType"].(string)
		if name == "" || typ == "" {
			return nil, fmt.Errorf("harness: bad KeySchema entry %v", e)
		}
		out = append(out, KeyElement{name, typ})
	}
	if len(out) == 0 {
		return nil, errors.New("harness: empty KeySchema")
	}
	return out, nil
}

func parseTable(id string, p map[string]any) (*TableSpec, error) {
	t := &TableSpec{LogicalID: id}
	var err error
	if t.KeySchema, err = keySchema(p["KeySchema"]); err != nil {
		return nil, err
	}
	for _, a := range asList(p["AttributeDefinitions"]) {
		m, _ := a.(map[string]any)
		name, _ := m["AttributeName"].(string)
		typ, _ := m["AttributeType"].(string)
		t.AttributeDefinitions = append(t.AttributeDefinitions, AttributeDefinition{name, typ})
	}
	for _, g := range asList(p["GlobalSecondaryIndexes"]) {
		m, _ := g.(map[string]any)
		gsi := GSI{ProjectionType: "ALL"}
		gsi.Name, _ = m["IndexName"].(string)
		if gsi.KeySchema, err = keySchema(m["KeySchema"]); err != nil {
			return nil, err
		}
		if pr, ok := m["Projection"].(map[string]any); ok {
			if pt, ok := pr["ProjectionType"].(string); ok {
				gsi.ProjectionType = pt
			}
			for _, a := range asList(pr["NonKeyAttributes"]) {
				if s, ok := a.(string); ok {
					gsi.NonKeyAttributes = append(gsi.NonKeyAttributes, s)
				}
			}
		}
		t.GSIs = append(t.GSIs, gsi)
	}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		t.TTLAttribute, _ = ttl["AttributeName"].(string)
	}
	return t, nil
}

// Locals are the local values the template's references resolve to.
type Locals struct {
	TableName string // {"Ref"} of the key table
	ClientID  string // {"Ref"} of the app client
	PoolID    string // {"Ref"} of the user pool (e.g. the api function's USER_POOL_ID); "" leaves it unresolved
	SecretARN string // {"Ref"} of the deployment secret (its ARN); "" leaves it unresolved
	// ConfigurationSet is what a {"Ref"} of the SES configuration set becomes (default
	// LocalConfigurationSet).
	ConfigurationSet string
	// Region and Account are what the pseudo parameters AWS::Region and AWS::AccountId become
	// ("" leaves them unresolved); AWS::Partition is "aws", AWS::URLSuffix "amazonaws.com".
	Region, Account string
}

// Resolve resolves every function's environment: a {"Ref"} of the table becomes tableName, of
// the app client clientID, of the SES configuration set LocalConfigurationSet. Any other token
// is an error naming it. ResolveLocals resolves the pool and the deployment secret too.
func (s *Spec) Resolve(tableName, clientID string) error {
	return s.ResolveLocals(Locals{TableName: tableName, ClientID: clientID})
}

// ResolveLocals resolves every function's environment and the authorizer's audience with l: a
// {"Ref"} of the table, the app client, the user pool, the deployment secret or the SES
// configuration set becomes its value in l; a {"Ref"} of an event bus of the template its name
// and {"Fn::GetAtt": [bus, "Arn"]} its ARN in l.Region and l.Account; the pseudo parameters as
// Locals says; {"Fn::Join"} of resolvable parts the joined string. Any other token is an error
// naming the function, the variable and the token.
func (s *Spec) ResolveLocals(l Locals) error {
	refs := map[string]string{s.ClientID: l.ClientID, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
	if l.Region != "" {
		refs["AWS::Region"] = l.Region
	}
	if l.Account != "" {
		refs["AWS::AccountId"] = l.Account
	}
	attrs := map[[2]string]string{}
	for id, name := range s.EventBuses {
		refs[id] = name
		attrs[[2]string{id, "Name"}] = name
		if l.Region != "" && l.Account != "" {
			attrs[[2]string{id, "Arn"}] = "arn:aws:events:" + l.Region + ":" + l.Account + ":event-bus/" + name
		}
	}
	if s.Table != nil {
		refs[s.Table.LogicalID] = l.TableName
	}
	if s.ConfigurationSetID != "" {
		refs[s.ConfigurationSetID] = LocalConfigurationSet
		if l.ConfigurationSet != "" {
			refs[s.ConfigurationSetID] = l.ConfigurationSet
		}
	}
	if s.PoolID != "" && l.PoolID != "" {
		refs[s.PoolID] = l.PoolID
	}
	if s.SecretID != "" && l.SecretARN != "" {
		refs[s.SecretID] = l.SecretARN
	}
	var errs []error
	for _, c := range Commands {
		f := s.Functions[c]
		f.Env = map[string]string{}
		for k, v := range f.rawEnv {
			str, err := resolve(v, refs, attrs)
			if err != nil {
				errs = append(errs, fmt.Errorf("harness: function %s, variable %s: %w", c, k, err))
				continue
			}
			f.Env[k] = str
		}
	}
	var aud []string
	for _, a := range s.Audience {
		str, err := resolve(a, refs, attrs)
		if err != nil {
			errs = append(errs, fmt.Errorf("harness: JWT authorizer audience: %w", err))
			continue
		}
		aud = append(aud, str)
	}
	s.ResolvedAudience = aud
	return errors.Join(errs...)
}

func resolve(v any, refs map[string]string, attrs map[[2]string]string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return fmt.Sprint(x), nil
	case bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if ref, ok := x["Ref"].(string); ok {
			if val, ok := refs[ref]; ok {
				return val, nil
			}
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			id, _ := ga[0].(string)
			attr, _ := ga[1].(string)
			if val, ok := attrs[[2]string{id, attr}]; ok {
				return val, nil
			}
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, ok1 := j[0].(string)
			parts, ok2 := j[1].([]any)
			if ok1 && ok2 {
				out := make([]string, 0, len(parts))
				for _, p := range parts {
					str, err := resolve(p, refs, attrs)
					if err != nil {
						return "", err
					}
					out = append(out, str)
				}
				return strings.Join(out, sep), nil
			}
		}
	}
	b, _ := json.Marshal(v)
	return "", fmt.Errorf("unsupported token %s (the harness resolves only Refs of the key table, the app client, the user pool, the deployment secret, the SES configuration set, event buses and pseudo parameters, event buses' Arn and Name, and Fn::Join of those)", b)
}
