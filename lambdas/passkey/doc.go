// Package passkey implements passkeys (WebAuthn) for the custom-auth flow with
// github.com/go-webauthn/webauthn: the relying party (RP) and the answer check (Checker, the
// triggers.Checker for authflow.Passkey). Registration goes through the HTTP API (package api).
//
// Two subpackages do not link go-webauthn, so the Create function stays small: passkeyconf holds
// the policy (Config, an alias here, and ConfigFromEnv) and passkeynonce the nonce-round hook that
// publishes request options (passkeynonce.Options, a triggers.NonceExtra for Create).
//
// # User handle
//
// A passkey's user.id is the UTF-8 Cognito username (UserHandle), taken by the API from the access
// token's "username" claim. In pools that sign in by email or phone that username is the UUID the
// pool assigned; a usernameless sign-in passes the handle back as USERNAME, which Cognito accepts
// for every user (the sub is not accepted as USERNAME in general). Passkeys are stored under the
// owner's sub; the handle is kept with each passkey and must match the assertion's userHandle.
//
// # Sign-in with a known username
//
//  1. InitiateAuth(CUSTOM_AUTH, USERNAME) -> the NONCE round's ChallengeParameters carry, besides
//     kind, nonce and methods, "passkeyOptions": PublicKeyCredentialRequestOptions JSON whose
//     challenge is the nonce (see passkeynonce.Options). By default (PASSKEY_ALLOW_CREDENTIALS =
//     "none") it has no allowCredentials, for every user: the authenticator offers the
//     discoverable credentials it holds for the RP ID, so the options tell nobody whether the
//     user exists or which aliases share an account. With "list" allowCredentials are the user's
//     passkeys (keyed decoys for unknown users), which lets non-discoverable credentials sign in
//     but lets anyone link an account's email and phone number.
//  2. navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o)}).
//  3. RespondToAuthChallenge(ANSWER = JSON.stringify(credential), ClientMetadata.signInMethod =
//     "passkey") -> tokens when Checker accepts. Checker looks the credential up by its ID among
//     this user's passkeys, whatever the options listed.
//
// Registration asks for a discoverable credential (residentKey "required") by default, which
// sign-in without allowCredentials needs.
//
// # Stored strings
//
// Transports are kept only when they are WebAuthn's (usb, nfc, ble, smart-card, hybrid, internal;
// store.Transports); unknown values are dropped, as the specification tells relying parties to do.
// Passkey names pass package usertext.
//
// # Usernameless sign-in (discoverable credentials)
//
//  1. POST /passkeys/authentication/options (public, no token) -> {"publicKey": {...} (no
//     allowCredentials), "challengeId": "..."}; the challenge is stored for Config.Timeout.
//  2. navigator.credentials.get(...) -> the assertion carries response.userHandle.
//  3. InitiateAuth(CUSTOM_AUTH, USERNAME = UTF-8 decoding of the user handle).
//  4. RespondToAuthChallenge(ANSWER = the assertion JSON, ClientMetadata = {signInMethod:
//     "passkey", challengeId: "..."}). Verify checks the assertion against the stored challenge,
//     which is consumed exactly once, atomically, whatever the outcome.
//
// # Timeouts and replay
//
// The nonce round records its issue time (private parameter PrivIssuedAt); an answer given more
// than Config.Timeout later is refused. A usernameless challenge expires after Config.Timeout.
// Recording a use is one conditional update: the sign count must rise (or stay zero for
// authenticators without a counter) and the challenge must differ from the last one used with the
// passkey, so concurrent submissions of one assertion cannot both pass; a non-rising count is
// logged as a possible clone.
package passkey
