// Package awsconfig builds the aws.Config every function uses, from what Lambda puts in the
// environment. It replaces config.LoadDefaultConfig, whose shared-file, SSO, STS and IMDS providers
// a Lambda never needs and which add megabytes to every binary. Building it makes no network call.
package awsconfig

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Budget: Cognito gives a trigger 5 s in all. One SDK call gets at most AttemptTimeout per try and
// MaxAttempts tries, so even a hanging dependency leaves time to fail cleanly.
const (
	MaxAttempts    = 2
	AttemptTimeout = 1500 * time.Millisecond
	MaxBackoff     = 200 * time.Millisecond
	DialTimeout    = 500 * time.Millisecond
)

// EnvEndpoint, when set, points every client at one endpoint (the local harness); unset in AWS.
const EnvEndpoint = "AWS_ENDPOINT_URL"

// New returns a Config with region AWS_REGION and the credentials in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (read on each signing, so a test can set them late).
func New(getenv func(string) string) (aws.Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	region := getenv("AWS_REGION")
	if region == "" {
		return aws.Config{}, errors.New("awsconfig: AWS_REGION is not set")
	}
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		c := aws.Credentials{
			AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
			Source:          "LambdaEnvironment",
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return aws.Credentials{}, errors.New("awsconfig: no credentials in the environment")
		}
		return c, nil
	})
	cfg := aws.Config{
		Region:      region,
		Credentials: creds,
		HTTPClient:  HTTPClient(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = MaxBackoff
			})
		},
	}
	if ep := getenv(EnvEndpoint); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// HTTPClient is an HTTP client with the per-attempt timeout and a short dial timeout.
func HTTPClient() *http.Client {
	return &http.Client{
		Timeout: AttemptTimeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: DialTimeout,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     60 * time.Second,
			ForceAttemptHTTP2:   true,
		},
	}
}
