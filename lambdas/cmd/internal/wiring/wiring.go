// Package wiring holds the set-up the functions' main packages share.
package wiring

import (
	"log"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/passwordless-go/cognito/lambdas/authflow"
	"github.com/passwordless-go/cognito/lambdas/awsapi"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
	"github.com/passwordless-go/cognito/lambdas/logging"
	"github.com/passwordless-go/cognito/lambdas/metrics"
)

// AWS returns the one AWS configuration every client of a function shares (awsconfig.New, from
// the environment), its HTTP client timed per call (DependencyLatency, DependencyErrors) by rec
// when rec is not nil, and the awsapi client over it. Neither makes a network call. An error ends
// the process (log.Fatalf, the message prefixed with "name: ").
func AWS(name string, rec *metrics.Recorder) (aws.Config, *awsapi.Client) {
	cfg, err := awsconfig.New(nil)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	if rec != nil {
		cfg.HTTPClient = rec.Transport(cfg.HTTPClient)
	}
	api, err := awsapi.New(cfg)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	return cfg, api
}

// Trigger returns what the create and verify triggers start from, read from the environment in
// this order: the sign-in configuration (authflow.ConfigFromEnv), the logger (logging.New) and
// the metrics recorder (metrics.FromEnv: nil when METRICS_NAMESPACE is unset, every metric then a
// no-op). An error ends the process (log.Fatalf, the message prefixed with "name: ").
func Trigger(name string) (authflow.Config, *slog.Logger, *metrics.Recorder) {
	cfg, err := authflow.ConfigFromEnv(nil)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	logger := logging.New(nil, nil)
	rec, err := metrics.FromEnv(nil, nil)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	return cfg, logger, rec
}
