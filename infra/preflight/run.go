// Package preflight checks, with read-only AWS calls, that an AWS account and Region are ready
// for one environment of this repository's CDK app (the "environments" of cdk.json, read with
// infra/stacks as `cdk synth` reads them), and prints a checklist: one line per check, OK, INFO,
// WARN, MISSING or ERROR, each miss with its fix.
//
// The checks: the credentials (and the environment's pinned account), the CDK bootstrap
// version, the stack's state, the Cognito feature plan the mode needs, the SES identity
// (exists, verified, DKIM), the SES account (sending enabled, production access, quota), and for
// SMS the SNS sandbox, the monthly spend limit and the origination number. Run exits ExitBlocked
// when something blocks the environment's enabled methods, ExitUnchecked when a check could not
// run, ExitReady otherwise (warnings allowed).
//
// `make preflight ENV=name` runs it (infra/cmd/preflight). Credentials come from the default
// chain (environment, shared config and credentials files with AWS_PROFILE or -profile, SSO,
// container and instance roles); the region from the environment's settings, else -region,
// else the SDK's (AWS_REGION or the profile's). The calls it makes are listed in Actions.
package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/passwordless-go/cognito/infra/stacks"
)

// ContextBootstrapQualifier is the cdk.json context key of a custom bootstrap qualifier.
const ContextBootstrapQualifier = "@aws-cdk/core:bootstrapQualifier"

var qualifierRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,10}$`)

// LoadTarget reads environment env (default stacks.DefaultEnv) from the cdk.json at path, with
// infra/stacks' own loader and validation, and the bootstrap qualifier of its context.
func LoadTarget(path, env string) (Target, error) {
	if env == "" {
		env = stacks.DefaultEnv
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return Target{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Target{}, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	settings, err := stacks.Load(doc.Context[stacks.ContextEnvironments], env)
	if err != nil {
		return Target{}, fmt.Errorf("%s: %w", path, err)
	}
	props, err := settings.Props()
	if err != nil {
		return Target{}, fmt.Errorf("%s: environment %q: %w", path, env, err)
	}
	t := Target{Env: env, StackName: settings.StackName, Account: settings.Account, Region: settings.Region, Qualifier: DefaultQualifier, Props: *props}
	if v, ok := doc.Context[ContextBootstrapQualifier]; ok {
		q, _ := v.(string)
		if !qualifierRe.MatchString(q) {
			return Target{}, fmt.Errorf("%s: context %s %v is not a bootstrap qualifier (1-10 letters, digits, _ or -)", path, ContextBootstrapQualifier, v)
		}
		t.Qualifier = q
	}
	return t, nil
}

// Run is the preflight command: it parses args (-env, -cdk-json, -profile, -region, -timeout),
// loads the environment and the AWS configuration (the default chain; load adds options, e.g. a
// test's endpoint and credentials), runs Check and prints the checklist to out. It returns the
// exit code: ExitReady, ExitBlocked or ExitUnchecked.
func Run(ctx context.Context, out io.Writer, args []string, load ...func(*config.LoadOptions) error) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	fs.SetOutput(out)
	env := fs.String("env", stacks.DefaultEnv, "environment of cdk.json to check")
	cdkJSON := fs.String("cdk-json", "cdk.json", "path of cdk.json")
	profile := fs.String("profile", "", "AWS profile (default: AWS_PROFILE, else the default profile)")
	region := fs.String("region", "", "region, when the environment pins none (default: AWS_REGION or the profile's)")
	timeout := fs.Duration("timeout", DefaultCallTimeout, "time allowed to each AWS call")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: preflight [-env NAME] [-cdk-json PATH] [-profile NAME] [-region REGION] [-timeout 5s]")
		fmt.Fprintln(out, "Checks with read-only AWS calls that the account and region are ready for the environment.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitReady
		}
		return ExitUnchecked
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(out, "preflight: unexpected arguments %q\n", fs.Args())
		return ExitUnchecked
	}
	if *timeout <= 0 {
		fmt.Fprintln(out, "preflight: -timeout must be positive")
		return ExitUnchecked
	}
	t, err := LoadTarget(*cdkJSON, *env)
	if err != nil {
		fmt.Fprintln(out, "preflight:", err)
		return ExitUnchecked
	}

	opts := []func(*config.LoadOptions) error{}
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	opts = append(opts, load...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintln(out, "preflight: loading the AWS configuration:", err)
		return ExitUnchecked
	}
	switch {
	case t.Region != "" && *region != "" && *region != t.Region:
		fmt.Fprintf(out, "preflight: environment %q deploys to %s (cdk.json); -region %s disagrees\n", t.Env, t.Region, *region)
		return ExitUnchecked
	case t.Region != "":
	case *region != "":
		t.Region = *region
	case cfg.Region != "":
		t.Region = cfg.Region
	default:
		fmt.Fprintf(out, "preflight: no region: environment %q pins none in cdk.json, and neither -region, AWS_REGION nor the profile sets one\n", t.Env)
		return ExitUnchecked
	}

	// Say plainly when there are no credentials, before any call fails with a longer story.
	cctx, cancel := context.WithTimeout(ctx, *timeout)
	_, err = cfg.Credentials.Retrieve(cctx)
	cancel()
	if err != nil {
		name := *profile
		if name == "" {
			name = os.Getenv("AWS_PROFILE")
		}
		where := "the default profile"
		if name != "" {
			where = "profile " + name
		}
		fmt.Fprintf(out, "preflight: no usable AWS credentials (looked in the environment, the shared config and credentials files for %s, SSO, container and instance roles).\n", where)
		fmt.Fprintln(out, "  Sign in first, e.g.: aws configure sso  (then aws sso login --profile NAME and AWS_PROFILE=NAME make preflight ENV="+t.Env+")")
		fmt.Fprintln(out, "  or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).")
		fmt.Fprintln(out, "  The check needs only read-only actions: "+strings.Join(Actions, ", ")+".")
		fmt.Fprintln(out, "  Detail:", err)
		return ExitUnchecked
	}

	rep := Check(ctx, cfg, t, Options{CallTimeout: *timeout})
	if _, err := rep.WriteTo(out); err != nil {
		return ExitUnchecked
	}
	return rep.Code()
}
