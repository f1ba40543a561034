// Package magiclink implements the magic_link sign-in method: the Issuer is its
// triggers.CodeIssuer (CreateAuthChallenge, LINK rounds) and the Checker its triggers.Checker
// (VerifyAuthChallengeResponse).
//
// # Protocol
//
//  1. Request. InitiateAuth(CUSTOM_AUTH, USERNAME) gives the nonce round; the client answers it
//     with any ANSWER (e.g. "-") and ClientMetadata {signInMethod: "magic_link", redirectUrl:
//     <one of MAGIC_LINK_URLS; optional, default the first>, deviceHash: <with
//     MAGIC_LINK_SAME_DEVICE only>}. Define starts a LINK round, in which Create emails the link
//     and publishes kind=LINK, deliveryMedium=EMAIL, destination (masked), resendAfter,
//     codeStatus ("sent" or "kept") and expiresIn (seconds). In that round the client may ask
//     for a new link (ClientMetadata action=resend), or answer with the secret itself.
//  2. The link: <redirect URL>#ml=<token>, token = unpadded base64url of
//     {"u":"<user name>","s":"<secret>","e":<expiry, Unix seconds>} (Link). It is in the URL
//     fragment, which browsers never send to a server, so neither the app's server logs nor a
//     mail scanner that fetches the URL ever see the secret, and a GET of the link uses nothing.
//  3. Completion, on any device: InitiateAuth(CUSTOM_AUTH, USERNAME=u), then
//     RespondToAuthChallenge(ANSWER=s, ClientMetadata {signInMethod: "magic_link", action:
//     "complete", deviceSecret: <with MAGIC_LINK_SAME_DEVICE only>}) → tokens. Define never sees
//     answers: action=complete is what tells a completion from a request.
//
// # Security
//
// The secret is SecretBytes (256 bits) from crypto/rand. The table keeps only a keyed hash of it
// (SecretHash: HMAC under the deployment secret over the pool, the user name and the secret)
// under a keyed user key (UserKey), one link per user (pk=MAGIC#<UserKey>): a new link replaces
// the old one, which stops working. Beside it the item keeps AddressHash of the address the link
// went to. Completion is one conditional UpdateItem that removes the hash if it matches, the
// account's current email address (Verify's userAttributes) is verified and hashes the same, the
// link has not expired and (same device) the device hash matches, and records a
// keyed tag of the answer that used it: a link works once, even for concurrent completions, and
// only for its user, while a Cognito retry of the Verify that used it (same session, round and
// secret: AttemptTag) is told yes again. The answer counts as a guessable
// attempt (authflow.MagicLink.Guessable): Verify reserves the account's attempt slot first, so
// wrong, used, expired, replaced, other users' and tampered links lock the account like wrong
// codes, and a locked account's right link is refused.
//
// A link works only for the address it went to: once the account's email address changes (the
// contact routes, an admin, or whoever took the account over), or stops being verified, or is
// removed, a link still waiting in the old mailbox is refused like a wrong answer. If the account
// returns to that same address, verified, before the link expires, the link works again: it then
// reaches the mailbox the account trusts, which any new request would send a link to anyway.
// Letter case and surrounding spaces do not make another address (as for email codes).
//
// Links go only to the account's verified email address (email_verified "true"): unknown users,
// users without an email address and unverified addresses get the same answer and nothing is
// sent. Sends share the recipient's schedule with email codes (otp.RecipientKey under
// email_otp): growing delays and a daily cap, codeStatus "kept" when the wait has not passed
// (the last link, if unexpired, still works). Answers that send nothing are padded to about the
// time a send takes. One email per round: a Cognito retry of Create finds the round's link
// already stored (store.PutMagicLink is conditional on the round) and sends nothing.
//
// Same device (MAGIC_LINK_SAME_DEVICE=true): the requesting device draws a random device secret
// (at least 128 bits, base64url, 22-128 characters), keeps it (e.g. sessionStorage or the app's
// keychain) and sends DeviceHash(secret) with the request; the completion must present the secret.
// A forwarded or intercepted email alone then cannot sign in, but the link also fails in another
// browser or app on the same phone (a mail app opening links in its own browser is the common
// case): users must open it where they asked.
//
// # Configuration
//
// FromEnv reads MAGIC_LINK_URLS (required), MAGIC_LINK_TTL (default 15m, 1m-60m),
// MAGIC_LINK_SAME_DEVICE (default false), MAGIC_LINK_EMAIL_SUBJECT / _TEXT / _HTML (templates with
// {{.Link}}, {{.AppName}}, {{.Minutes}}; the subject may not print the link, the bodies must),
// and package otp's EMAIL_FROM, EMAIL_CONFIGURATION_SET, APP_NAME, SEND_DELAYS and
// SEND_DAILY_CAP. The Checker needs only MAGIC_LINK_SAME_DEVICE.
//
// # Metrics
//
// With IssuerDeps.Metrics (a *metrics.Recorder) the Issuer counts Sent{Channel: email, Kind:
// link} once SES accepted a link, SendRefused{Channel: email, Reason: rate_limit, daily_cap or
// unverified} when a rule refused one (for users that exist), and SendFailed{Channel: email} when
// SES failed. Unknown users count nothing. The Checker counts nothing: Verify counts sign-ins.
//
// # Calls and permissions
//
// Link request (CreateAuthChallenge): SEND# GetItem + PutItem (the schedule), MAGIC# PutItem,
// ses:SendEmail on the sender identity. Completion (VerifyAuthChallengeResponse): FAILS#
// UpdateItem (the attempt slot, package lockout), MAGIC# UpdateItem (use the link), FAILS#
// UpdateItem (give the slot back) and SEND# UpdateItem (otp.SendReset) concurrently. No KMS.
package magiclink
