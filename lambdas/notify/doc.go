// Package notify sends security notifications to the owner of an account: a device key or
// passkey added or removed, the account locked by wrong sign-in answers, the email address or
// phone number changed (to the old address too), a sign-in with a method not used before.
//
// A notification never delays or fails the action that caused it. Notify returns nothing, gives
// up after Config.Timeout (default 1 s, env NOTIFY_TIMEOUT) even if a dependency ignores its
// context, never panics, logs failures without addresses or user names (a keyed user reference,
// as the triggers log) and counts them (Sender.Failures).
//
// Recipient: the account's verified email address (email_verified "true"); the verified phone
// number (SMS) only when there is no verified email address to write to; nobody when the account
// has no verified contact. contact_changed also goes to the old address (Event.Detail
// "oldAddress"), which was verified until the change. Nothing goes to an unverified address.
//
// Messages carry no secret and no link: they say what happened and when, and what to do if it
// was not the owner. User-chosen text (key names) is not in the default templates: a key added by
// an intruder carries the name the intruder chose.
//
// De-duplication: before sending, one conditional DynamoDB PutItem claims the event (item
// NOTIFY#<keyed event ID>, 24 h time to live), so a Cognito retry of the trigger that caused it
// sends nothing more. If that write fails (DynamoDB unavailable), the notification is sent
// anyway and the failure counted: a duplicate security notice is harmless, a missing one (an
// account taken over without its owner hearing of it) is not.
//
// Spend and harassment: account_locked is the one kind a stranger can cause (by answering codes
// wrongly). It is capped per account (NOTIFY_LOCKED_LIMITS, default 3 per 24 h) and, when it goes
// by SMS, by a deployment-wide budget (NOTIFY_LOCKED_SMS_LIMITS, default 20 an hour and 100 a
// day). The other kinds need the account itself (a signed-in API call or a successful sign-in)
// and are not capped, so a stranger cannot use up a budget to silence them.
//
// Messages go through the same sender settings as the sign-in codes (package delivery, shared
// with package otp): EMAIL_FROM, EMAIL_CONFIGURATION_SET, APP_NAME, SMS_SENDER_ID,
// SMS_ORIGINATION_NUMBER and SMS_ALLOWED_COUNTRIES (default GB,DE,FR,AU,IE), the same masks and
// the same SMS recipient rules (mobile numbers of allowed countries only). Templates are plain text with placeholders written as in Go templates
// ({{.AppName}}, {{.Time}}, {{.Detail.method}}, ...; see TemplateFields), overridable per kind
// with NOTIFY_TEMPLATES_JSON and checked when the function starts.
//
// Metrics (issue 13; Deps.Metrics or Sender.SetMetrics, a *metrics.Recorder, nil: none): every
// message sent counts Sent{Channel: email|sms, Kind: notice}; every failure Sender.Failures
// counts is one NotificationFailed, with the Channel when one recipient's send failed and without
// one for the rest (no deployment key, a timeout, a de-duplication or cap write that failed, which
// still lets the notice go). They are counted when Notify returns: what work abandoned at the
// timeout does later is not counted (the timeout already counted one failure for it).
//
// Permissions: ses:SendEmail (the sender identity), sns:Publish (SMS, no topic), and on the key
// table dynamodb:PutItem for partition keys starting NOTIFY# plus dynamodb:UpdateItem for RATE#
// (the account_locked caps, store.AllowSend).
package notify
