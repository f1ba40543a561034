// Package idp is a local stand-in for an Amazon Cognito user pool that runs the CUSTOM_AUTH flow
// with Lambda triggers. It speaks the Cognito Identity Provider JSON protocol (awsJson1.1 with the
// X-Amz-Target header), so the AWS SDKs talk to it unchanged when their endpoint points at it, and
// it plays Cognito's documented custom-auth state machine: DefineAuthChallenge, then
// CreateAuthChallenge, the client's answer to VerifyAuthChallengeResponse, DefineAuthChallenge
// again, and so on until Define issues tokens or fails the sign-in. Triggers are reached through
// an Invoker: the local harness runs the built Lambda binaries, tests call the handlers in-process
// (Functions and Handle).
//
// # Modelled
//
//   - One user pool with one public app client that allows CUSTOM_AUTH and REFRESH_TOKEN_AUTH
//     (other flows: InvalidParameterException "<flow> flow not enabled for this client"). Sign-in
//     names are case-insensitive. With Aliases the pool has Cognito's "username attributes": the
//     email address or phone number is the Username of SignUp/AdminCreateUser, the user name is a
//     generated UUID equal to the sub, and the user signs in with the address, the number or the
//     UUID. An address is held by one user, confirmed or not (signing up again gives
//     UsernameExistsException, even with PreventUserExistenceErrors, as in Cognito).
//   - The custom-auth facts of DESIGN.md: ClientMetadata of InitiateAuth never reaches
//     Define/Create/Verify (they get null), the one of RespondToAuthChallenge reaches all three;
//     Define and Create see only the session history; private challenge parameters go to Verify
//     only; with PreventUserExistenceErrors (the default) an unknown name runs the same triggers
//     with userNotFound=true and empty userAttributes, and fails at the end like a wrong answer
//     (NotAuthorizedException "Incorrect username or password."), never with tokens. Unconfirmed
//     users get UserNotConfirmedException, disabled ones NotAuthorizedException, as in Cognito.
//   - Sessions are AES-GCM sealed (the client can neither read nor alter them), bound to the app
//     client, accepted once, and valid for AuthSessionValidity from the moment each one is issued
//     (Cognito documents the validity per session token, not per sign-in).
//   - Trigger calls: event JSON exactly as aws-lambda-go's events types; TriggerTimeout per
//     attempt (Cognito does not wait longer, even if the function runs on); timeouts and transport
//     errors retried TriggerRetries times, then UnexpectedLambdaException "<Trigger> invocation
//     failed due to error Socket timeout while invoking Lambda function." (or the transport
//     error's text); a function error (*FunctionError, or the Lambda error payload) is not
//     retried: UserLambdaValidationException "<Trigger> failed with error <message>."; an
//     unreadable response: InvalidLambdaResponseException.
//   - Tokens: RS256 ID and access tokens with Cognito's claims, a JWKS at
//     /{PoolID}/.well-known/jwks.json, opaque sealed refresh tokens; REFRESH_TOKEN_AUTH returns new
//     ID and access tokens with the same auth_time and origin_jti and no new refresh token.
//     RevokeToken, GlobalSignOut, AdminUserGlobalSignOut, AdminDisableUser and AdminDeleteUser
//     revoke, as checked by GetUser and the refresh flow.
//   - PreSignUp on SignUp (autoConfirmUser, autoVerifyEmail, autoVerifyPhone) and on
//     AdminCreateUser (callerContext.clientId CLIENT_ID_NOT_APPLICABLE; autoConfirmUser does not
//     apply, the user is FORCE_CHANGE_PASSWORD until AdminSetUserPassword with Permanent; such a
//     user may still sign in with custom auth).
//
// # Choices where Cognito's documentation is silent
//
//   - ChallengeParameters.USERNAME of an unknown user is, in an alias pool, a UUID derived from
//     the name with a per-pool key (stable, shaped like a real user name), else the name given.
//   - A RespondToAuthChallenge whose USERNAME names another user is refused with
//     NotAuthorizedException "Invalid session for the user." and does not spend the session.
//   - Define answers: failAuthentication wins; issueTokens with no challenge name issues tokens
//     (also in the first round); CUSTOM_CHALLENGE without issueTokens asks Create; anything else
//     (both, neither, another challenge name) is InvalidLambdaResponseException.
//   - ListUsers lists in creation order.
//
// # Not modelled
//
//   - Passwords: checked against the construct's policy (16 characters, upper and lower case,
//     digits, symbols) and then forgotten; no password, SRP or choice-based (USER_AUTH) sign-in
//     and no SRP_A/PASSWORD_VERIFIER challenges. The construct enables none of them.
//   - Messages: nothing is ever sent; no ConfirmSignUp, ResendConfirmationCode, ForgotPassword or
//     VerifyUserAttribute (use AdminConfirmSignUp / AdminUpdateUserAttributes). MessageAction,
//     DesiredDeliveryMediums and ForceAliasCreation are accepted and otherwise ignored.
//   - Other triggers (pre/post authentication, pre token generation, post confirmation, custom
//     message, migration, custom senders), groups, MFA, remembered devices, OAuth and the hosted
//     UI, federation, client secrets, several app clients, attribute read/write permissions other
//     than "a client may not write *_verified", custom attribute definitions (any custom:* is
//     accepted), advanced security, quotas and throttling.
//   - SigV4 signatures and IAM: admin calls are not authenticated.
//   - Persistence: everything lives in memory and the keys change with every New.
package idp
