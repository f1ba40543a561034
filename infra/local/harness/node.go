package harness

import "github.com/passwordless-go/cognito/constructs/jsiienv"

// The harness synthesizes the construct in-process (jsii): no Node.js version banner in make dev
// or the end-to-end tests (see package jsiienv).
func init() { jsiienv.Quiet() }
