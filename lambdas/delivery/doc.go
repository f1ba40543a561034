// Package delivery holds what every sender of messages to users shares (the sign-in codes of
// package otp, the security notifications of package notify, the contact-change codes of package
// contact): the sender settings and their environment variables (APP_NAME, EMAIL_FROM,
// EMAIL_CONFIGURATION_SET, SMS_SENDER_ID, SMS_ORIGINATION_NUMBER, SMS_ALLOWED_COUNTRIES) and
// their checks, the SES and SNS requests built from them, the SMS recipient rules (mobile
// numbers of allowed countries only), the masks that show an address without revealing it,
// the "window:max" limits syntax, message templates with fixed placeholders, and AWS error codes
// safe to log.
//
// It is a leaf: it imports neither otp, notify, contact nor triggers, so all of them can use it.
// It makes no AWS call itself.
package delivery
