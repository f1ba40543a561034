package passwordless

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// MaxEnvironmentBytes is Lambda's limit on a function's environment variables: 4 KB
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, "Function
// environment variables"). Lambda measures the JSON of the variables, names, quotes and escapes
// included: its InvalidParameterValueException ("... exceeded the 4KB limit. String measured:
// {...}") quotes that JSON, so a template with quotes or newlines costs more than its length.
const MaxEnvironmentBytes = 4096

// tokenEnvBytes stands for a value CloudFormation fills in at deploy time (a secret's ARN with
// its generated name, about 100 characters; a generated table or configuration-set name; a pool
// or client ID) when the environment is sized at synth.
const tokenEnvBytes = 128

// envSizeCheck refuses, at synth, a function whose environment Lambda would refuse at deploy.
// It runs as a construct validation, after every variable is added (observability adds its own
// after the function is created).
type envSizeCheck struct{ fn awslambda.Function }

// Validate implements constructs.IValidation.
func (c *envSizeCheck) Validate() *[]*string {
	cfn, ok := c.fn.Node().DefaultChild().(awslambda.CfnFunction)
	if !ok {
		return &[]*string{}
	}
	// Resolved before CloudFormation's casing is applied: {"variables": {...}}.
	env, _ := awscdk.Stack_Of(c.fn).Resolve(cfn.Environment()).(map[string]any)
	vars, _ := env["variables"].(map[string]any)
	if n := envBytes(vars); n > MaxEnvironmentBytes {
		return &[]*string{jsii.String(fmt.Sprintf("the environment of function %s measures about %d bytes as Lambda counts it "+
			"(the JSON of its variables, deploy-time values counted as %d bytes each), over Lambda's limit of %d: "+
			"use fewer or shorter templates and locales, or fewer SMS countries",
			*c.fn.Node().Id(), n, tokenEnvBytes, MaxEnvironmentBytes))}
	}
	return &[]*string{}
}

// envBytes is the size of vars (resolved "Variables" of a template) as Lambda measures it: the
// JSON of the object, with each deploy-time value (a Ref, Fn::GetAtt, ...) counted as
// tokenEnvBytes and the literal parts of an Fn::Join as they are.
func envBytes(vars map[string]any) int {
	flat := make(map[string]string, len(vars))
	for k, v := range vars {
		flat[k] = envValue(v)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(flat) // strings only: cannot fail
	return len(bytes.TrimSpace(b.Bytes()))
}

// envValue is v's text, deploy-time parts replaced by tokenEnvBytes characters.
func envValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				out[i] = envValue(p)
			}
			return strings.Join(out, sep)
		}
	}
	return strings.Repeat("x", tokenEnvBytes)
}
