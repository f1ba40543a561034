// Package otp implements the one-time-code sign-in methods, email_otp (Amazon SES) and sms_otp
// (Amazon SNS): the Issuer is their triggers.CodeIssuer (CreateAuthChallenge) and the Checker
// their triggers.Checker (VerifyAuthChallengeResponse).
//
// # Codes
//
// Generate draws codes from crypto/rand with rejection sampling, so every digit is uniform.
// A code is never stored or logged: the Issuer stores, and hands to Verify as private challenge
// parameters, only a 16-byte random salt and
//
//	Digest = HMAC-SHA256(key = salt, message = sessionID + "|" + generation + "|" + code)
//
// which the Checker compares in constant time. The session ID and generation bind a code to one
// sign-in and one send: after a resend (generation + 1) the old code no longer matches. A wrong
// answer keeps the generation, so the next round reuses the stored record (same code).
// Codes live Config.TTL (at most 10 minutes).
//
// # Sending
//
// Cognito may invoke CreateAuthChallenge twice for one round, so sending is tied to the
// conditional write of the round's record (store.Store.CreateOTP): only the call that creates
// the record sends, at most once per round, also when the send fails. Codes go only to real
// users, to an address they have, within the per-recipient send limits (store.Store.AllowSend,
// keyed by a SHA-256 of the address), and for SMS only to E.164 numbers in allowed countries
// that are verified, unless the user has no verified attribute at all (a fresh sign-up proving
// its number). Whenever nothing is sent the client sees the same answer as when a code is sent
// (see Issuer.Issue).
//
// SMS is a restricted authenticator (NIST SP 800-63B: numbers can be ported or SIM-swapped,
// messages intercepted); offer a key-based method as well. See Config.SMSAllowedCountries for
// the SMS pumping risk.
//
// # Configuration
//
// FromEnv reads (unset or empty means the default):
//
//	OTP_DIGITS               code length, 6-10                                    default 6
//	OTP_TTL_SECONDS          code lifetime, 60-600                                default 300
//	SEND_LIMITS              sends per recipient per window, window:max,...       default 60s:1,24h:10
//	EMAIL_FROM               SES sender address (verified identity)               required for email_otp
//	EMAIL_CONFIGURATION_SET  SES configuration set                                optional
//	APP_NAME                 application name in messages                         default "your app"
//	EMAIL_SUBJECT            text/template                                        default DefaultEmailSubject
//	EMAIL_TEXT_TEMPLATE      text/template, must print {{.Code}}                  default DefaultEmailTextTemplate
//	EMAIL_HTML_TEMPLATE      html/template (autoescaped), must print {{.Code}}    default DefaultEmailHTMLTemplate
//	SMS_TEMPLATE             text/template, must print {{.Code}}, <= 160 chars    default DefaultSMSTemplate
//	SMS_ALLOWED_COUNTRIES    calling-code prefixes                                default +1,+44,+49,+33,+61,+353
//	SMS_SENDER_ID            AWS.SNS.SMS.SenderID                                 optional
//	SMS_ORIGINATION_NUMBER   AWS.MM.SMS.OriginationNumber (E.164)                 optional
//
// Templates see TemplateData: .Code, .AppName and .Minutes. SMS are always sent with
// AWS.SNS.SMS.SMSType = Transactional.
//
// # Permissions
//
// CreateAuthChallenge (Issuer): dynamodb:PutItem, dynamodb:GetItem and dynamodb:UpdateItem on the
// key table (the send limits are one TransactWriteItems of Update actions, which IAM authorises
// as dynamodb:UpdateItem; there is no separate transaction action); ses:SendEmail on the sender
// identity and, if set, the configuration set; sns:Publish on resource "*" (a direct SMS to a
// phone number has no resource ARN, so it cannot be scoped: the country allow-list, the send
// limits and an SNS spend limit are the controls). VerifyAuthChallengeResponse (Checker):
// cognito-idp:AdminUpdateUserAttributes on the user pool.
package otp
