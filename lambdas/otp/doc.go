// Package otp implements the one-time-code sign-in methods, email_otp (Amazon SES) and sms_otp
// (Amazon SNS): the Issuer is their triggers.CodeIssuer (CreateAuthChallenge), the Checker their
// triggers.Checker (VerifyAuthChallengeResponse), and SendReset a triggers.SuccessHook that
// restarts a user's send delays when they sign in.
//
// # Codes
//
// Generate draws codes from crypto/rand with rejection sampling, so every digit is uniform.
// A code is never stored or logged: the Issuer stores, and hands to Verify as private challenge
// parameters, only a 16-byte random salt and
//
//	Digest = HMAC-SHA256(key = salt, message = sessionID | generation | recipient | code)
//
// which the Checker compares in constant time. The session ID and generation bind a code to one
// sign-in and one send: after a resend that sends (generation + 1) the old code no longer
// matches. The recipient (the normalised address the code went to) binds it to that address:
// when the account's address changed between two rounds, a code carried on from the earlier
// round matches nothing. A wrong answer keeps the generation, so the next round reuses the
// stored record (same code). Codes live Config.TTL (at most 10 minutes).
//
// A right answer for an address that is not verified yet marks it verified together with the
// value the code was sent to, in one AdminUpdateUserAttributes call ([email, X],
// [email_verified, "true"], resp. phone_number): the Issuer carries X to Verify in the private
// parameter PrivAddress, and the Checker refuses the answer if the attribute no longer holds X.
//
// # Sending
//
// Cognito may invoke CreateAuthChallenge twice for one round, so sending is tied to the
// conditional write of the round's record (store.Store.CreateOTP): only the call that creates
// the record sends, at most once per round, also when the send fails. A code is sent only
//
//   - to a real user, to the address in the attribute of the method (email, phone_number);
//   - for SMS, to a number that parses as E.164 (libphonenumber's rules: package phone), is of
//     a mobile kind (MOBILE or FIXED_LINE_OR_MOBILE; premium-rate, shared-cost, toll-free,
//     VoIP, pager, personal, UAN and unknown numbers are refused) and is in
//     Config.SMSAllowedCountries; the SMS goes to the E.164 form;
//   - to an unverified address only on an account with nothing else: no verified contact (the
//     other of email and phone), no device key and no passkey (counted on the owner's META
//     item, read with one GetItem only for unverified addresses). So a stranger who signs up
//     first with someone's address cannot use it once the account has anything else;
//   - when the recipient's send schedule allows it (below);
//   - for an SMS to an unverified number, while the deployment-wide budget
//     Config.SMSUnverifiedLimits has room (one TransactWriteItems under RATE#sms-unverified);
//     codes to verified numbers do not count and still go out when it is spent.
//
// Send schedule: the first code to a recipient goes at once; each further one needs the next
// of Config.SendDelays (default 60 s, 120 s, 240 s, 480 s, then 900 s each time) after the
// previous one, and at most Config.SendDailyCap (default 100) go out in 24 hours. One item per
// recipient (pk=SEND#<RecipientKey>) records it, each send with one conditional write, so
// concurrent rounds cannot both pass. The schedule starts again when the user signs in by any
// method (SendReset clears it for the user's verified email address and phone number) or after
// 24 hours without a code. Recipients are normalised for the schedule only (LimitForm): email
// lower-cased, "+tag" removed, Gmail dots removed and googlemail.com read as gmail.com; phone
// numbers in E.164, so "+4407400123456" and "+447400123456" are one recipient. Keys are keyed
// hashes under the deployment secret (RecipientKey), never the address.
//
// Worst case: someone who does not control the account can delay the user's next code by at
// most the last delay (15 minutes by default), however long they keep asking; the default
// delays allow at most 99 codes to one recipient in 24 hours, below the daily cap, so a stranger
// can never stop a user's codes for the rest of a day, and the user's own sign-in restarts the
// delays. A mailbox or phone gets at most 99 unsolicited codes a day from one deployment.
//
// Every round, sent or not, takes a step of the recipient's schedule (an unknown user, or a
// user without the attribute, under what was typed) and answers with the same public
// parameters: PubDeliveryMedium, PubDestination (the masked address, or for a user name that
// says nothing about the recipient a placeholder derived under the deployment key, which
// nobody can compute from public data), PubResendAfter (whole seconds until the schedule allows
// the next code to this recipient) and PubCodeStatus: CodeSent when a code went out (or, for an
// unknown user or an address that is not sent to, appears to), CodeKept when the wait had not
// passed and a resend carries the code already sent in the sign-in on (it keeps working), or
// the round repeats one after a wrong answer, and CodeWait when the wait had not passed and no
// code of this sign-in can be carried on (its first round, or an expired code): ask again after
// PubResendAfter seconds. The old code stops working when a new one is
// sent (CodeSent). Answers that send nothing wait about as long as recent sends took (a moving
// average seeded with PriorEmailLatency and PriorSMSLatency, so from an instance's first
// request), so timing does not tell real users from unknown ones. The reason a code was not
// sent is logged; addresses, codes, salts and digests never are.
//
// SMS is a restricted authenticator (NIST SP 800-63B: numbers can be ported or SIM-swapped,
// messages intercepted); offer a key-based method as well. See Config.SMSAllowedCountries for
// the SMS pumping risk.
//
// # Metrics
//
// With IssuerDeps.Metrics set, each new round counts one of (package metrics; the channel is
// email or sms): Sent{Channel, Kind "code"} once SES or SNS took the message; SendFailed{Channel}
// when SES or SNS failed (the round fails); SendRefused{Channel, Reason} when a rule kept the code
// back, naming the first rule that refused: unverified (an unverified address of an account with
// a verified contact, a device key or a passkey, or without a sub), country (an SMS number outside
// the allowed countries or not a mobile number: premium-rate, shared-cost, VoIP...), other (an
// email address that is malformed, a phone number that does not parse), rate_limit (the
// recipient's send delay has not passed), daily_cap (its daily cap is reached), budget (the
// deployment's budget for SMS to unverified numbers is spent). Unknown users and users without
// the address count nothing, and a retried Create (the round already has its code) counts
// nothing again. No dimension holds an address, number, code or user. Checker.Expired tells
// Verify that a refused answer came after the round's expiry (SignInFailed reason expired).
//
// # Configuration
//
// FromEnv reads (unset or empty means the default):
//
//	OTP_DIGITS               code length, 6-10                                      default 6
//	OTP_TTL_SECONDS          code lifetime, 60-600                                  default 300
//	SEND_DELAYS              waits before the 2nd, 3rd, ... code to a recipient,    default 60s,120s,240s,480s,900s
//	                         Go durations, 1-20 of them, whole seconds 1s-24h,
//	                         the last repeats
//	SEND_DAILY_CAP           codes per recipient per 24 h, 1-10000                  default 100
//	SMS_UNVERIFIED_LIMITS    deployment-wide SMS to unverified numbers,             default 1h:20,24h:100
//	                         window:max,..., 1-5 windows up to 31 days, max 1-1000
//	EMAIL_FROM               SES sender address (verified identity)                 required for email_otp
//	EMAIL_CONFIGURATION_SET  SES configuration set                                  optional
//	APP_NAME                 application name in messages                           default "your app"
//	EMAIL_SUBJECT            template                                               default DefaultEmailSubject
//	EMAIL_TEXT_TEMPLATE      template, must print {{.Code}}                         default DefaultEmailTextTemplate
//	EMAIL_HTML_TEMPLATE      template (values HTML-escaped), must print {{.Code}}   default DefaultEmailHTMLTemplate
//	SMS_TEMPLATE             template, must print {{.Code}}, one SMS part           default DefaultSMSTemplate
//	SMS_ALLOWED_COUNTRIES    region codes (GB) and/or calling-code prefixes (+44)   default GB,DE,FR,AU,IE
//	SMS_SENDER_ID            AWS.SNS.SMS.SenderID                                   optional
//	SMS_ORIGINATION_NUMBER   AWS.MM.SMS.OriginationNumber (E.164)                   optional
//
// The sender settings (EMAIL_FROM, EMAIL_CONFIGURATION_SET, APP_NAME and the SMS_ variables
// above) are package delivery's, shared with the other senders (notifications, contact changes).
// US and Canadian numbers are not in the default countries: carriers there drop SMS without a
// registered origination number; list "US,CA" once SMS_ORIGINATION_NUMBER is set.
//
// SEND_LIMITS (the fixed windows this replaces) is ignored. Templates see TemplateData: .Code,
// .AppName and .Minutes. SMS are always sent with AWS.SNS.SMS.SMSType = Transactional. Every
// request must carry the deployment key (triggers.IssueRequest.Key, CheckRequest.Key): without
// it the Issuer, the Checker and SendReset fail closed.
//
// # Permissions
//
// CreateAuthChallenge (Issuer), on the key table, by partition-key prefix
// (dynamodb:LeadingKeys):
//
//	OTP#    PutItem (CreateOTP), GetItem (resends, and CreateOTP finding an existing record)
//	SEND#   GetItem, PutItem (the schedule: read, then one conditional put)
//	RATE#   UpdateItem (the SMS budget: one TransactWriteItems of Update actions, which IAM
//	        authorises as dynamodb:UpdateItem; there is no separate transaction action)
//	USER#   GetItem (the owner's META item: device key and passkey counts)
//
// plus ses:SendEmail on the sender identity and, if set, the configuration set, and
// sns:Publish on resource "*" (a direct SMS to a phone number has no resource ARN, so it cannot
// be scoped: the country and number-type checks, the send schedule, the SMS budget and an SNS
// spend limit are the controls). VerifyAuthChallengeResponse: cognito-idp:AdminUpdateUserAttributes
// on the user pool (Checker), and dynamodb:UpdateItem on SEND# (SendReset: one conditional
// UpdateItem per address of the user, run concurrently).
package otp
