package passwordless

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/authflow"
)

// Item prefixes of the key table: the start of each item's partition key (package store's
// layout). Every function's role reaches only the prefixes it uses, so one bug in the
// internet-facing API cannot delete failure counters (disabling the lockout) or forge code
// records, and Create cannot plant a credential.
const (
	PrefixUser      = "USER#"      // device keys, passkeys, their counters (META), registration challenges
	PrefixPasskeyID = "PASSKEYID#" // passkey credential-ID guards (unique across users)
	PrefixPKAuth    = "PKAUTH#"    // usernameless passkey sign-in challenges
	PrefixFails     = "FAILS#"     // failure windows and attempt slots per account (lockout)
	PrefixRate      = "RATE#"      // fixed-window counters: deployment-wide SMS budget, contact-change sends
	PrefixOTP       = "OTP#"       // one-time code records per sign-in
	PrefixSend      = "SEND#"      // per-recipient growing send delays and daily cap
	PrefixContact   = "CONTACT#"   // pending email or phone changes
)

// Table actions, split so that a prefix can be readable without being writable. IAM evaluates
// each item of a TransactWriteItems as its own PutItem, UpdateItem, DeleteItem or
// ConditionCheckItem ("Permissions for Put, Update, Delete, and Get actions are governed by the
// permissions used for the underlying PutItem, UpdateItem, DeleteItem, and GetItem operations";
// Amazon DynamoDB Developer Guide, "Using IAM with DynamoDB transactions",
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html),
// so each item's partition key meets the same LeadingKeys condition and no action named
// TransactWriteItems is needed.
var (
	readActions  = []string{"dynamodb:GetItem", "dynamodb:Query"}
	writeActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
)

// access is one function's reach into the key table, by item prefix.
type access struct {
	read, write []string
}

func (a *access) allow(read, write bool, prefixes ...string) {
	for _, p := range prefixes {
		if read && !slices.Contains(a.read, p) {
			a.read = append(a.read, p)
		}
		if write && !slices.Contains(a.write, p) {
			a.write = append(a.write, p)
		}
	}
}

// tableAccess is what each function needs in configuration p (the callers in lambdas/otp,
// lockout, keyauth, passkey, passkeynonce, api and contact). Define and PreSignUp need nothing.
func tableAccess(p Props) (create, verify, api access) {
	cfg := authflow.Config{Methods: p.Methods}
	codes := p.codes()
	if codes {
		// Code records (conditional put, read on a retried Create), per-recipient send delays and
		// the deployment-wide SMS budget; the user's META item and key lists decide whether an
		// unverified address may get a code.
		create.allow(true, true, PrefixOTP, PrefixSend, PrefixRate)
		create.allow(true, false, PrefixUser)
		// A right code resets the recipient's send delays.
		verify.allow(false, true, PrefixSend)
		// Contact changes: the pending change and its send limits.
		api.allow(true, true, PrefixContact, PrefixRate)
	}
	if len(p.Methods) > 0 {
		// Failure windows and attempt slots (guessable methods are counted and gated).
		verify.allow(true, true, PrefixFails)
	}
	if cfg.Enabled(authflow.DeviceKey) {
		// Verify reads the key and stamps its use; the API registers, lists and revokes keys.
		verify.allow(true, true, PrefixUser)
		api.allow(true, true, PrefixUser)
	}
	if cfg.Enabled(authflow.Passkey) {
		// The nonce round publishes the user's credentials (or decoys derived from the secret).
		create.allow(true, false, PrefixUser)
		// Verify consumes usernameless challenges, reads the passkey and records its use.
		verify.allow(true, true, PrefixUser, PrefixPKAuth)
		// The API registers (guard item), lists, renames and deletes passkeys, and issues
		// registration and usernameless challenges.
		api.allow(true, true, PrefixUser, PrefixPasskeyID, PrefixPKAuth)
	}
	return create, verify, api
}

// grantTableAccess adds a's statements to fn's role: reads and writes separately, each on the
// table only (never an index or stream) and only for items whose partition key starts with one of
// the prefixes.
//
// dynamodb:LeadingKeys is "the first key attribute of a table, in other words the partition key",
// and must be used with ForAllValues (Amazon DynamoDB Developer Guide, "Using IAM policy
// conditions for fine-grained access control", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
// ForAllValues is also true when the request carries no key at all (IAM User Guide, "Multivalued
// context key examples"), so a Null condition requires the key: a Scan or any request without a
// partition key is refused. Queries of the credential index would need the index ARN as resource
// (table/NAME/index/INDEX), which no role gets: no function queries the index (the store keeps it
// for tooling), and LeadingKeys is not documented to apply to an index's own partition key.
func grantTableAccess(fn awslambda.Function, table awsdynamodb.Table, a access) {
	add := func(sid string, actions, prefixes []string) {
		if len(prefixes) == 0 {
			return
		}
		patterns := make([]string, len(prefixes))
		for i, p := range prefixes {
			patterns[i] = p + "*"
		}
		slices.Sort(patterns)
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String(sid),
			Actions:   jsii.Strings(actions...),
			Resources: &[]*string{table.TableArn()},
			Conditions: &map[string]any{
				"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": patterns},
				"Null":                    map[string]any{"dynamodb:LeadingKeys": "false"},
			},
		}))
	}
	add("ReadItemsByPrefix", readActions, a.read)
	add("WriteItemsByPrefix", writeActions, a.write)
}
