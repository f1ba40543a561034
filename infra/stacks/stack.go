package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/passwordless"
)

// New adds the stack of one environment to scope. Settings must come from Load.
func New(scope constructs.Construct, envName string, s Settings) (awscdk.Stack, *passwordless.Passwordless) {
	props, err := s.Props()
	if err != nil {
		panic(err)
	}
	var env *awscdk.Environment
	if s.Account != "" || s.Region != "" {
		env = &awscdk.Environment{Account: optional(s.Account), Region: optional(s.Region)}
	}
	stack := awscdk.NewStack(scope, jsii.String(s.StackName), &awscdk.StackProps{
		Env:         env,
		Description: jsii.String("Passwordless sign-in on Amazon Cognito (" + envName + ")"),
		Tags:        &map[string]*string{"app": jsii.String("passwordless"), "environment": jsii.String(envName)},
	})
	if s.AlarmTopicARN != "" {
		// The topic exists already (an on-call topic shared by the team's stacks).
		if props.Observability == nil {
			props.Observability = &passwordless.ObservabilityProps{}
		}
		props.Observability.AlarmTopic = awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(s.AlarmTopicARN))
	}
	auth := passwordless.New(stack, jsii.String("Passwordless"), props)
	return stack, auth
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}
