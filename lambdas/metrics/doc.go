// Package metrics writes the functions' CloudWatch metrics as log lines in the Embedded Metric
// Format (EMF): CloudWatch Logs extracts the metrics from the function's log group, so nothing on
// the sign-in path calls PutMetricData. It uses the standard library only (Define, which has no
// AWS client, can link it without the SDK).
//
// # Format
//
// The lines follow "Specification: Embedded metric format" of the Amazon CloudWatch User Guide
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// Each line is one JSON object, nothing before or after it, with one MetricDirective and one
// MetricDefinition:
//
//	{"_aws":{"Timestamp":1741064767890,"CloudWatchMetrics":[{"Namespace":"Passwordless",
//	  "Dimensions":[[],["Method"],["Reason"]],"Metrics":[{"Name":"SignInFailed","Unit":"Count"}]}]},
//	  "Method":"passkey","Reason":"wrong_answer","SignInFailed":2}
//
// _aws.Timestamp is the time of Flush in milliseconds since the epoch. Dimensions is the array of
// dimension sets; the specification allows an empty set ("A DimensionSet MAY be empty"), which
// publishes the metric without dimensions (the totals alarms use), and every key of a set is a
// string member of the root (its target member). The metric's value is a top-level member: a
// number for a Count metric (the invocation's sum), an array of at most 100 numbers for a
// Milliseconds metric (the specification's limit; more values are split over several lines).
// Units: Count and Milliseconds.
//
// # Metrics and dimension sets
//
// The package alone decides each metric's dimension sets, so the number of CloudWatch metrics
// (the cost) is fixed here:
//
//	SignInStarted       Count         []
//	SignInSucceeded     Count         [], [Method]
//	SignInFailed        Count         [], [Method], [Reason]
//	Sent                Count         [], [Channel], [Channel, Kind]
//	SendRefused         Count         [], [Channel, Reason]
//	SendFailed          Count         [], [Channel]
//	Lockouts            Count         []
//	KeyRegistered       Count         [Method]
//	KeyRevoked          Count         [Method]
//	NotificationFailed  Count         [], [Channel]
//	DependencyLatency   Milliseconds  [Dependency]
//	DependencyErrors    Count         [], [Dependency]   (Reason written as a plain member)
//	AuditUndelivered    Count         []
//
// A set is written only when each of its fields has a value; a field every set needs
// (KeyRegistered's Method, DependencyLatency's Dependency) is "other" when not given. A Dims
// field the metric does not use is ignored. A field a metric records but no set names
// (DependencyErrors' Reason) is a plain member of the line: searchable in Logs Insights, not a
// dimension.
//
// Every dimension value comes from a fixed allow-list (Method: email_otp sms_otp device_key
// passkey magic_link; Reason: wrong_answer expired locked limit dependency rate_limit daily_cap
// country unverified budget throttle fault timeout; Channel: email sms; Kind: code link notice;
// Dependency: dynamodb ses sns cognito secretsmanager events); anything else is written as
// "other", so an address, phone number, code, key ID or user can never become a dimension, and a
// metric name outside the table writes nothing.
//
// # Dependencies
//
// Recorder.Transport wraps the HTTP client of a function's aws.Config: every AWS call (each
// attempt of a retried call) adds a DependencyLatency value (time to the response headers) and,
// when it failed (transport error, 5xx, throttling), a DependencyErrors count. The dependency is
// read from the SigV4 credential scope of the request.
//
// # Cost
//
// Recording takes a mutex and a map update keyed by small integers (no allocation once a
// metric/dimension combination has been seen); Flush hand-encodes each line with strconv into a
// reused buffer (no encoding/json, no allocation in steady state) and writes it with one Write.
// A nil *Recorder (METRICS_NAMESPACE unset) makes every method a no-op. See BENCHMARKS.md for
// measured numbers. In CloudWatch each distinct combination of namespace, name and dimension
// values is one custom metric; the sets and allow-lists above bound that number to
// MaxSeries (125) per namespace, every combination counted; a few dozen occur in practice.
package metrics
