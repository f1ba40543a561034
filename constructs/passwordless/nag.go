package passwordless

import (
	"slices"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression is one cdk-nag finding the construct accepts on purpose, with the reason.
type Suppression struct {
	Rule      string   // e.g. "AwsSolutions-COG2"
	Resource  string   // construct path below the Passwordless construct
	AppliesTo []string // the finding's details it covers, e.g. "Resource::*"; empty: the whole rule
	Reason    string
	// When names the configuration whose resources need it: "" always, "sms_otp" with the
	// custom sms_otp method, "native-sms" with Native.SMSOTP, "passkey" with the custom passkey
	// method, "own-secret" when the construct creates the deployment secret, "sms-notify" when
	// Verify sends notifications (account_locked, new_method_signin) with the sms_otp method on.
	When string
}

// applies reports whether a suppression's When holds for p.
func applies(when string, p Props) bool {
	switch when {
	case "":
		return true
	case "sms_otp":
		return p.Mode != ModeNative && slices.Contains(p.Methods, SMSOTP)
	case "native-sms":
		return p.Mode == ModeNative && p.Native.SMSOTP
	case "passkey":
		return p.Mode != ModeNative && slices.Contains(p.Methods, Passkey)
	case "own-secret":
		return p.DeploymentSecret == nil
	case "sms-notify":
		return p.Mode != ModeNative && slices.Contains(p.Methods, SMSOTP) && len(p.notifyKinds(verifyKinds)) > 0
	}
	return false
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
	{
		Rule:      "AwsSolutions-IAM5",
		Resource:  "CreateAuthChallengeRole/DefaultPolicy",
		AppliesTo: []string{"Resource::*"},
		Reason: "SNS Publish straight to a phone number (SMS codes) has no resource ARN, so only \"*\" " +
			"can allow it; publishing to topics is denied in the same policy, and SMS go only to mobile " +
			"numbers of allow-listed countries, under per-recipient send delays and a deployment-wide " +
			"budget for numbers not yet verified.",
		When: "sms_otp",
	},
	{
		Rule:      "AwsSolutions-IAM5",
		Resource:  "ApiRole/DefaultPolicy",
		AppliesTo: []string{"Resource::*"},
		Reason: "SNS Publish straight to a phone number (the code of a phone-number change, and security " +
			"notifications to accounts whose only verified contact is a phone number) has no " +
			"resource ARN, so only \"*\" can allow it; publishing to topics is denied in the same " +
			"policy, and SMS go only to mobile numbers of allow-listed countries, under per-user and " +
			"per-recipient limits and the deployment-wide budget for numbers not yet verified.",
		When: "sms_otp",
	},
	{
		Rule:      "AwsSolutions-IAM5",
		Resource:  "VerifyAuthChallengeResponseRole/DefaultPolicy",
		AppliesTo: []string{"Resource::*"},
		Reason: "SNS Publish straight to a phone number (security notifications of a locked account or a " +
			"new sign-in method, to accounts whose only verified contact is a verified phone number) " +
			"has no resource ARN, so only \"*\" can allow it; publishing to topics is denied in the same " +
			"policy, SMS go only to mobile numbers of allow-listed countries, account_locked notices are " +
			"capped per account and by a deployment-wide SMS budget, and the others need a sign-in.",
		When: "sms-notify",
	},
	{
		Rule:      "AwsSolutions-IAM5",
		Resource:  "UserPool/smsRole",
		AppliesTo: []string{"Resource::*"},
		Reason: "Native mode: Cognito sends SMS_OTP codes itself through this role, and SNS Publish " +
			"straight to a phone number has no resource ARN; the role is assumable only by Cognito " +
			"with this pool's external ID.",
		When: "native-sms",
	},
	{
		Rule:     "AwsSolutions-APIG4",
		Resource: "HttpApi/POST--passkeys--authentication--options",
		Reason: "Usernameless passkey sign-in starts before the user has a token, so this one route is " +
			"public by design: it only issues a single-use challenge (stored with a short TTL, " +
			"consumed by the passkey sign-in) and returns no user data; it has its own stage " +
			"throttle (PublicThrottle, default 5/s).",
		When: "passkey",
	},
	{
		Rule:     "AwsSolutions-SMG4",
		Resource: "DeploymentSecret",
		Reason: "The deployment secret is an HMAC key, not a credential of another system: rotating it " +
			"means putting a new random value (PutSecretValue), which warm functions pick up within an " +
			"hour. Every identifier derived from it changes once (send-limit and lockout windows start " +
			"afresh, log references and decoys for unknown users change) and no stored data depends " +
			"on it, so rotate on suspicion of exposure rather than on a schedule that would also reset " +
			"every limit.",
		When: "own-secret",
	},
}

// addSuppressions attaches Suppressions to the resources that exist under c (an existing user pool
// passed in through Props is not the construct's to suppress).
func addSuppressions(c constructs.Construct, p Props) {
	for _, s := range Suppressions {
		if !applies(s.When, p) {
			continue
		}
		var node constructs.IConstruct = c
		for _, id := range strings.Split(s.Resource, "/") {
			if node = node.Node().TryFindChild(jsii.String(id)); node == nil {
				break
			}
		}
		if node == nil {
			continue
		}
		sup := &cdknag.NagPackSuppression{Id: jsii.String(s.Rule), Reason: jsii.String(s.Reason)}
		if len(s.AppliesTo) > 0 {
			applies := make([]any, len(s.AppliesTo))
			for i, a := range s.AppliesTo {
				applies[i] = a
			}
			sup.AppliesTo = &applies
		}
		cdknag.NagSuppressions_AddResourceSuppressions(node, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}
}
