// Command banner starts jsii as this repository's test helpers and harness do: with
// jsiienv.Quiet in an init function, or without it when BANNER_LOUD=1. TestQuietSilencesBanner
// reads what it prints.
package main

import (
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/constructs/jsiienv"
)

func init() {
	if os.Getenv("BANNER_LOUD") != "1" {
		jsiienv.Quiet()
	}
}

func main() {
	awscdk.NewApp(nil)
	jsii.Close()
}
