// Command infra is this repository's CDK app: `cdk synth -c env=NAME` (default dev) synthesizes the
// stack of one environment configured in cdk.json, checked by cdk-nag's AwsSolutions rules.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/passwordless-go/cognito/infra/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	name, _ := app.Node().TryGetContext(jsii.String(stacks.ContextEnv)).(string)
	if name == "" {
		name = stacks.DefaultEnv
	}
	settings, err := stacks.Load(app.Node().TryGetContext(jsii.String(stacks.ContextEnvironments)), name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(1)
	}
	stacks.New(app, name, settings)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
}
