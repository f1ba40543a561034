// Package contact adds or changes a signed-in user's email address or phone number: the only way
// to do so once the app client can no longer write "email" and "phone_number" (the construct
// sets the client's write attributes). An address is written only after a code sent to it has
// been answered, and always together with its verified flag, in one Cognito
// AdminUpdateUserAttributes call: nobody can attach an address they do not control to an account
// (issue 10, attack 1b), and no address is ever marked verified without the value the code went
// to (attack 2).
//
// # Routes
//
// The api package registers them (api.Handler.WithContact); both need an access token that
// Cognito's GetUser still accepts, whose attributes the routes read.
//
//	POST /me/contact         {"email": "new@example.com"} or {"phoneNumber": "+447700900123"}
//	                         -> 202 {"changeId", "deliveryMedium": "EMAIL"|"SMS",
//	                                 "destination": "n***@e***.com", "expiresAt": RFC 3339}
//	POST /me/contact/verify  {"changeId", "code"}
//	                         -> 200 {"email": "new@example.com", "verified": true}
//	                            (or {"phoneNumber": ..., "verified": true})
//
// Start needs a sign-in no older than Config.MaxAuthAge (the token's auth_time; the same setting
// as device-key registration, 5 minutes by default), refuses an address that is already the
// account's verified one, applies the send limits, draws a change ID (128 bits from
// crypto/rand), a code (otp.Generate) and a salt, stores the change and sends the code to the new
// address. Verify uses up one of the change's 3 answers with one conditional update before it
// checks the code, so answers sent at the same moment never get more than 3 checked; a right code
// deletes the change with one conditional delete (single use: of concurrent right answers exactly
// one goes on) and then calls AdminUpdateUserAttributes with [{attr, value}, {attr_verified,
// "true"}]. The account's previous verified address of that kind is told that it was replaced;
// when the account had none, its other verified address is told that one was added. The notice
// holds the new address masked, no code and no link; a failed notice is logged and does not
// undo the change.
//
// With security notifications on for contact_changed (NOTIFY_EVENTS, package notify; the API
// function sets Deps.Notify), the notifier replaces that built-in notice: Verify hands it one
// contact_changed event with a fresh random ID, Detail "attribute" and, when a verified address
// of that kind was replaced, "oldAddress", so that the account's verified contact and the
// replaced address are both told, with the notification templates (NOTIFY_TEMPLATES_JSON). When
// nothing verified of that kind was replaced (an address added), the event carries the new
// value as not verified, so that the notice goes to the account's other verified address and not
// to the one the caller has just proved and added.
//
// Errors ({"code", "message"}): 400 bad_json, bad_address (also a phone number outside
// SMS_ALLOWED_COUNTRIES), unsupported (the pool does not sign in with that kind of address),
// unchanged, bad_code (not a code of OTP_DIGITS digits: no answer used), wrong_code (with
// "attemptsLeft"); 403 stale_auth; 404 not_found, the same for an unknown, expired, used-up or
// another user's change; 409 address_in_use (AliasExistsException or UsernameExistsException:
// the address belongs to another account; the caller proved control of it first, so this is no
// oracle for strangers); 429 rate_limited; 500 internal.
//
// # Codes and items
//
// Codes are never stored or logged: the change item holds a random 16-byte salt and
// otp.Digest(salt, "contact|"+changeID+"|"+owner+"|"+attribute, 0, value, code), compared in
// constant time (otp.Verify): a digest copied onto another change, user or value does not match. A code lives OTP_TTL_SECONDS (default 5 minutes, at most 10). The
// item is pk=CONTACT#<changeId> sk=CHANGE (see store.ContactChange); it holds the new address
// while the change is pending and is deleted when it completes or removed by its TTL.
//
// # Addresses
//
// An email address must be a bare address (no display name, comments or brackets) of at most
// 254 bytes with a dot in its domain. A phone number must be E.164; it is stored, sent to and
// compared in the form libphonenumber parses it to ("+4407400123456" is "+447400123456"), must
// be of a mobile kind (no premium-rate, shared-cost, toll-free, VoIP or unknown numbers) and in
// SMS_ALLOWED_COUNTRIES (region codes or calling-code prefixes), the rules of the otp package's
// sign-in codes.
//
// # Limits
//
// Every start counts against the caller (key.ID("contact-user", sub); default 5 an hour and 10 a
// day), then against the new address (key.ID("contact-rate", otp.LimitForm(address)): email
// addresses without "+tags", Gmail without dots, phone numbers in E.164; default one a minute
// and 10 a day) and, for a phone number, against the deployment's budget of SMS to unverified
// numbers (otp.SMSBudgetKey, otp.Config.SMSUnverifiedLimits, shared with the sign-in codes of fresh
// sign-ups; default 20 an hour and 100 a day). Each is one store.AllowSend under RATE# (fixed
// windows). The trade-off: someone with an account can use up one address's 10 codes of a day,
// after which its owner cannot add that address to an account until the day's window ends (at
// most 24 hours); signing in is not affected (sign-in codes have their own limits).
//
// # Configuration
//
// FromEnv reads USER_POOL_ID, SIGN_IN_ALIASES ("email", "phone" or "email,phone": which
// addresses users may set) and the otp package's variables: OTP_DIGITS, OTP_TTL_SECONDS,
// EMAIL_FROM (required when email addresses may be set), EMAIL_CONFIGURATION_SET, APP_NAME,
// SMS_ALLOWED_COUNTRIES, SMS_UNVERIFIED_LIMITS, SMS_SENDER_ID, SMS_ORIGINATION_NUMBER. The
// sign-in freshness comes from the device-key setting DEVICE_KEY_MAX_AUTH_AGE_SECONDS (the API
// function copies it into Config.MaxAuthAge). The keyed identifiers need the
// deployment secret (DEPLOYMENT_SECRET_ARN, keyed.FromEnv) and the items the key table
// (KEY_TABLE_NAME).
//
// # Messages
//
// The routes send their own fixed messages (see message.go), not the sign-in templates: a code
// email (text and HTML) and SMS (at most 160 characters) that say what the code is for, and the
// notices. They are rendered by plain placeholder replacement ({{.Code}}, {{.AppName}},
// {{.Minutes}}, {{.What}}, {{.Destination}}), not text/template (see BENCHMARKS.md).
//
// # Metrics and audit
//
// With Deps.Metrics (a *metrics.Recorder): a code sent counts Sent{Channel: email|sms, Kind:
// code}, a code SES or SNS failed SendFailed{Channel}; a start refused by a rule counts
// SendRefused{Channel, Reason}: rate_limit (the caller's or the address's limit), budget (the
// deployment's SMS budget for unverified numbers), country (SMS_ALLOWED_COUNTRIES). Malformed
// input (not an address, not a mobile number) is no refusal by a rule and counts nothing. The
// built-in notice to the replaced or other address counts Sent{Channel, Kind: notice} or
// NotificationFailed{Channel} (with Deps.Notify the notifier counts its own).
//
// With Deps.Audit (a *audit.Publisher): each completed change publishes contact.changed with
// Attribute "email" or "phone_number" and the keyed user reference audit.UserRef(deployment
// key, USER_POOL_ID, user name), nothing else (no address, old or new). A refused or failed
// Verify publishes nothing. If the key cannot be read the event is logged without the user and
// counted as AuditUndelivered.
//
// # Permissions
//
// The API function needs: cognito-idp:AdminUpdateUserAttributes on the user pool;
// ses:SendEmail on the sender identity (and configuration set); sns:Publish on "*" (a direct SMS
// has no resource ARN); dynamodb:PutItem, dynamodb:UpdateItem and dynamodb:DeleteItem on items
// whose partition key begins with CONTACT# (the delete is a one-action TransactWriteItems, which
// IAM authorises as dynamodb:DeleteItem); dynamodb:UpdateItem on RATE# (store.AllowSend is a
// TransactWriteItems of updates); secretsmanager:GetSecretValue on the deployment secret.
package contact
