package cdktest

import "github.com/passwordless-go/cognito/constructs/jsiienv"

// Tests that synthesize start jsii through this package: no Node.js version banner in their
// output (see package jsiienv).
func init() { jsiienv.Quiet() }
