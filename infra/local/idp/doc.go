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
//     /{PoolID}/.well-known/jwks.json, opaque sealed refresh tokens; REFRESH_TOKEN_AUTH and
//     GetTokensFromRefreshToken (Amplify JS v6 refreshes with it) return new ID and access tokens
//     with the same auth_time and origin_jti and no new refresh token (no refresh-token rotation
//     on the client: API_GetTokensFromRefreshToken in the Cognito API reference).
//     RevokeToken, GlobalSignOut, AdminUserGlobalSignOut, AdminDisableUser and AdminDeleteUser
//     revoke: every call that takes an access token (GetUser, UpdateUserAttributes,
//     GlobalSignOut) then answers NotAuthorizedException "Access Token has been revoked", and the
//     refresh flow "Refresh Token has been revoked" [revocation]. The tokens still verify as JWTs
//     until they expire, as Cognito's do (which is why API Gateway's JWT authorizer lets them
//     through and the api function asks GetUser).
//   - App client attribute permissions [permissions] [client]: Config.WriteAttributes are the
//     attributes the client may write through SignUp's UserAttributes and
//     UpdateUserAttributes; any other, and always email_verified and phone_number_verified,
//     gives NotAuthorizedException "A client attempted to write unauthorized attribute" (the
//     documentation names the exception; the message is the one public reports quote
//     [unauthorized]) and nothing is written. Without WriteAttributes the client writes every
//     standard attribute (Cognito's default). Config.ReadAttributes are the attributes GetUser
//     returns and the ID token carries (sub always); without it, every attribute. Admin* calls
//     and the trigger events are not limited by either list.
//   - Username attributes [usernameattrs]: SignUp with an email address or phone number as
//     Username populates the email or phone_number attribute from it, unverified; that is the
//     pool's doing, not a write by the client, so it needs no write permission (the
//     documentation describes the population without any permission condition; it does not say
//     so in as many words: a deployed stack's smoke test is the proof). An email address or
//     phone number belongs to one user whatever its verified state and whether that user is
//     confirmed: SignUp with an address another user holds (as Username or as an attribute)
//     gives UsernameExistsException "An account with the given email already exists." (or
//     phone_number); AdminUpdateUserAttributes and UpdateUserAttributes setting it give
//     AliasExistsException with the same message [aliasexists].
//   - UpdateUserAttributes (access token): a changed email address or phone number is stored
//     unverified (the pool's "keep the original value until verified" setting is not
//     modelled), and no verification code is sent (see Not modelled).
//   - PreSignUp on SignUp (autoConfirmUser, autoVerifyEmail, autoVerifyPhone) and on
//     AdminCreateUser (callerContext.clientId CLIENT_ID_NOT_APPLICABLE; autoConfirmUser does not
//     apply, the user is FORCE_CHANGE_PASSWORD until AdminSetUserPassword with Permanent; such a
//     user may still sign in with custom auth).
//
// # Choices where Cognito's documentation is silent
//
//   - ChallengeParameters.USERNAME of an unknown user is, in an alias pool, a version-3
//     (name-based) UUID, stable per name (its other bits an HMAC of the lower-cased name under a
//     per-pool key), as in the one public report of Cognito's answer [dummyname]; a real user's
//     is its user name, the sub, a version-4 UUID. The version digit therefore tells an unknown
//     user from a real one, here as (by that report) in Cognito: the emulator does not hide what
//     Cognito may show, and the smoke command checks what a deployed pool really does. Without
//     username attributes it is the name given.
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
//     UI, federation, client secrets, several app clients, required attributes (Cognito makes
//     them always writable [permissions]), custom attribute definitions (any custom:* is
//     accepted, and writable and readable by default, where Cognito's default read and write
//     lists hold standard attributes only), advanced security, quotas and throttling.
//   - SigV4 signatures and IAM: admin calls are not authenticated.
//   - Persistence: everything lives in memory and the keys change with every New.
//
// # Sources
//
// Amazon Cognito Developer Guide and API Reference, as quoted:
//
//   - [permissions] "User pool attributes", section "Attribute permissions and scopes"
//     (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-attributes.html):
//     "If an app tries to update an attribute that isn't writable, the app gets a
//     NotAuthorizedException exception. An app that calls GetUser only receives the attributes
//     that are readable for that app. Your user's ID token from an app only contains claims that
//     correspond to the readable attributes. Required attributes in a user pool are always
//     writable."
//   - [client] API Reference, UserPoolClientType / CreateUserPoolClient, WriteAttributes: "When
//     you don't specify the WriteAttributes for your app client, your app can write the values of
//     the Standard attributes of your user pool"; ReadAttributes: "When you don't specify the
//     ReadAttributes for your app client, your app can read the values of email_verified,
//     phone_number_verified, and the standard attributes of your user pool."
//   - [unauthorized] The message text is not in the documentation; it is the one quoted by
//     aws/aws-sdk-js issues 1084 and 3603 (SignUp with a custom attribute, and with
//     email_verified) and aws-amplify/amplify-js issue 5345.
//   - [usernameattrs] "User pool attributes", "Option 2: User signs up and signs in with email
//     or phone number instead of username": SignUp "If the username string is in valid email
//     address format, the user pool automatically populates the email attribute of the user with
//     the username value" (phone numbers alike); "If the username string contains an email
//     address or phone number that is already in use, the SignUp API returns an exception";
//     "The email or phone number must be unique, and it must not already be in use by another
//     user. It does not have to be verified."
//   - [aliasexists] API Reference, AliasExistsException (listed by AdminUpdateUserAttributes
//     and UpdateUserAttributes): "This exception is thrown when a user tries to confirm the
//     account with an email address or phone number that has already been supplied as an alias
//     for a different user profile."
//   - [dummyname] Not in the documentation. aws/aws-sdk-go issue 3134, "Cognito::AdminInitiateAuth
//     not throwing UserNotFoundException" (https://github.com/aws/aws-sdk-go/issues/3134,
//     2020-02-13): AdminInitiateAuth with AuthFlow CUSTOM_AUTH and AuthParameters USERNAME
//     "+9172006XXXXX", a phone number with no user in the pool (ap-south-1), answered
//     ChallengeName "CUSTOM_CHALLENGE" with ChallengeParameters {"USERNAME":
//     "03670b97-8dee-3875-8242-1f853290f0cc", "phone_number": ""} (the reporter's words: "dummy
//     USERNAME and phone_number is empty"; phone_number came from the reporter's own trigger).
//     Version digit 3, variant 10xx: a name-based MD5 UUID of RFC 4122.
//   - [revocation] "Revoking tokens"
//     (https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html): "Revoked
//     tokens can't be used with any Cognito API calls that require a token. However, revoked
//     tokens will still be valid if they are verified using any JWT library that verifies the
//     signature and expiration of the token."
//
// # CORS
//
// Browsers call the JSON API from a page's own origin, so the pool answers as the real endpoint
// does [cors]. An OPTIONS request (a preflight) gets 200 with no body and no operation runs:
// Access-Control-Allow-Origin "*", Access-Control-Allow-Methods "POST",
// Access-Control-Allow-Headers echoing the request's Access-Control-Request-Headers (Content-Type
// and X-Amz-Target among them), Access-Control-Expose-Headers
// "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date" and Access-Control-Max-Age
// "172800". Every POST answer, success or error, carries Access-Control-Allow-Origin "*" and the
// same Access-Control-Expose-Headers: the recording covers preflights only, and the AWS SDK for
// JavaScript reads both the answers and the errors (their __type) of this endpoint from browser
// pages, which a browser allows only with these headers. The JWKS and OpenID configuration
// routes send no CORS headers (not checked against Cognito; nothing here needs them).
//
//   - [cors] Preflights recorded against https://cognito-idp.us-east-1.amazonaws.com/ with
//     curl (Origin https://foo.example, Access-Control-Request-Method POST) between October 2020
//     and February 2021, in the survey of AWS endpoints' CORS answers by an AWS SDK for
//     JavaScript maintainer: https://github.com/AllanZhengYP/cors-test, file output.md (e.g. the
//     run of 16 February 2021: "HTTP/2 200", "access-control-allow-origin: *",
//     "access-control-allow-headers: content-type,x-amz-target,content-length,host,
//     x-amz-user-agent,user-agent,Authorization,amz-sdk-invocation-id,amz-sdk-request,
//     x-amz-security-token" (the requested list, echoed), "access-control-allow-methods: POST",
//     "access-control-expose-headers: x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
//     "access-control-max-age: 172800").
package idp
