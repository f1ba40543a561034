package passwordless

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one cdk-nag finding the construct accepts on purpose, with the reason.
type Suppression struct {
	Rule     string // e.g. "AwsSolutions-COG2"
	Resource string // construct path below the Passwordless construct
	Reason   string
}

// Suppressions lists every cdk-nag suppression the construct adds, so reviews see a new one.
// They are attached to the construct's own resources only.
var Suppressions = []Suppression{
	{
		Rule:     "AwsSolutions-COG2",
		Resource: "UserPool",
		Reason: "Sign-in is passwordless: the factor is a one-time code sent to a verified address, a " +
			"device-bound key or a passkey, each proven per sign-in. Cognito MFA applies to password " +
			"sign-in, which this pool does not enable.",
	},
	{
		Rule:     "AwsSolutions-COG3",
		Resource: "UserPool",
		Reason: "Threat protection (advanced security ENFORCED) needs the Plus feature plan, priced per " +
			"MAU; the construct defaults to the Lite plan and instead counts failures per account, " +
			"rate-limits sends and caps attempts in its own triggers.",
	},
}

// addSuppressions attaches Suppressions to the resources that exist under c (an existing user pool
// passed in through Props is not the construct's to suppress).
func addSuppressions(c constructs.Construct) {
	for _, s := range Suppressions {
		child := c.Node().TryFindChild(jsii.String(s.Resource))
		if child == nil {
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(child, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String(s.Rule), Reason: jsii.String(s.Reason)},
		}, jsii.Bool(true))
	}
}
