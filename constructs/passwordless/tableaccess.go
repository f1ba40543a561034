package passwordless

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/notify"
	"github.com/passwordless-go/cognito/lambdas/store"
)

// Item prefixes of the key table are package store's (store.Prefix*, listed in store.Prefixes):
// the start of each item's partition key. Every function's role reaches only the prefixes it
// uses, so one bug in the internet-facing API cannot delete failure counters (disabling the
// lockout) or forge code records, and Create cannot plant a credential.

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

// access is one function's reach into the key table, by item prefix: read (GetItem, Query),
// write (PutItem, UpdateItem, DeleteItem), or a single action (get: GetItem alone; put: PutItem
// alone; update: UpdateItem alone) where that is all the function does with the prefix.
type access struct {
	read, write, get, put, update []string
}

func (a *access) allow(read, write bool, prefixes ...string) {
	for _, p := range prefixes {
		if read {
			a.read = add(a.read, p)
		}
		if write {
			a.write = add(a.write, p)
		}
	}
}

// allowGet grants GetItem alone on prefixes.
func (a *access) allowGet(prefixes ...string) {
	for _, p := range prefixes {
		a.get = add(a.get, p)
	}
}

// allowPut grants PutItem alone on prefixes.
func (a *access) allowPut(prefixes ...string) {
	for _, p := range prefixes {
		a.put = add(a.put, p)
	}
}

// allowUpdate grants UpdateItem alone on prefixes.
func (a *access) allowUpdate(prefixes ...string) {
	for _, p := range prefixes {
		a.update = add(a.update, p)
	}
}

func add(l []string, p string) []string {
	if slices.Contains(l, p) {
		return l
	}
	return append(l, p)
}

// without returns the prefixes of l not in covered.
func without(l, covered []string) []string {
	var out []string
	for _, p := range l {
		if !slices.Contains(covered, p) {
			out = append(out, p)
		}
	}
	return out
}

// tableAccess is what each function needs in configuration p (the callers in lambdas/otp,
// lockout, keyauth, passkey, passkeynonce, magiclink, notify, triggers/notifyhook, api and
// contact). Define and PreSignUp need nothing.
func tableAccess(p Props) (create, verify, api access) {
	cfg := p.flowConfig()
	codes := p.codes()
	if codes {
		// Code records (conditional put, read on a retried Create), per-recipient send delays and
		// the deployment-wide SMS budget; the user's META item and key lists decide whether an
		// unverified address may get a code.
		create.allow(true, true, store.PrefixOTP, store.PrefixSend, store.PrefixRate)
		create.allow(true, false, store.PrefixUser)
		// A right code resets the recipient's send delays.
		verify.allow(false, true, store.PrefixSend)
		// Contact changes: the pending change and its send limits.
		api.allow(true, true, store.PrefixContact, store.PrefixRate)
	}
	if len(p.Methods) > 0 {
		// Failure windows and attempt slots (guessable methods are counted and gated).
		verify.allow(true, true, store.PrefixFails)
	}
	if cfg.Enabled(authflow.DeviceKey) {
		// Verify reads the key and stamps its use; the API registers, lists and revokes keys.
		verify.allow(true, true, store.PrefixUser)
		api.allow(true, true, store.PrefixUser)
	}
	if cfg.Enabled(authflow.Passkey) {
		// The nonce round publishes the user's credentials (or decoys derived from the secret).
		create.allow(true, false, store.PrefixUser)
		// Verify consumes usernameless challenges, reads the passkey and records its use.
		verify.allow(true, true, store.PrefixUser, store.PrefixPKAuth)
		// The API registers (guard item), lists, renames and deletes passkeys, and issues
		// registration and usernameless challenges.
		api.allow(true, true, store.PrefixUser, store.PrefixPasskeyID, store.PrefixPKAuth)
	}
	if p.links() {
		// The link request: the recipient's send schedule (shared with email codes; read, then
		// one conditional put) and the user's one outstanding link (one conditional put).
		create.allowGet(store.PrefixSend)
		create.allowPut(store.PrefixSend, store.PrefixMagic)
		// The completion uses the link with one conditional update; any accepted answer resets
		// the recipient's send schedule (an update).
		verify.allowUpdate(store.PrefixMagic, store.PrefixSend)
	}
	if kinds := p.notifyKinds(verifyKinds); len(kinds) > 0 {
		// One conditional put claims each notified event (Cognito retries send one).
		verify.allowPut(store.PrefixNotify)
		if slices.Contains(kinds, notify.AccountLocked) {
			// The account_locked caps (store.AllowSend: updates of fixed-window counters).
			verify.allowUpdate(store.PrefixRate)
		}
		if slices.Contains(kinds, notify.NewMethodSignIn) {
			// The methods a user signed in with, a set on USER#<sub>/META (one update).
			verify.allowUpdate(store.PrefixUser)
		}
	}
	if len(p.notifyKinds(apiKinds)) > 0 {
		api.allowPut(store.PrefixNotify)
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
	grant := func(sid string, actions, prefixes []string) {
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
	grant("ReadItemsByPrefix", readActions, a.read)
	grant("WriteItemsByPrefix", writeActions, a.write)
	grant("GetItemsByPrefix", []string{"dynamodb:GetItem"}, without(a.get, a.read))
	grant("PutItemsByPrefix", []string{"dynamodb:PutItem"}, without(a.put, a.write))
	grant("UpdateItemsByPrefix", []string{"dynamodb:UpdateItem"}, without(a.update, a.write))
}
