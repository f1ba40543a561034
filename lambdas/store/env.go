package store

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/passwordless-go/cognito/lambdas/awsconfig"
)

// EnvTableName names the key table in a function's environment (the construct sets it).
const EnvTableName = "KEY_TABLE_NAME"

// ErrNoTable is returned by FromEnv when KEY_TABLE_NAME is not set.
var ErrNoTable = errors.New("store: " + EnvTableName + " is not set")

// FromEnv builds a Store on the table named by KEY_TABLE_NAME with a DynamoDB client from
// awsconfig (timeouts and retries sized to Cognito's 5 s budget). It makes no network call, so a
// function builds it once at start-up.
func FromEnv(getenv func(string) string) (*Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	table := getenv(EnvTableName)
	if table == "" {
		return nil, ErrNoTable
	}
	cfg, err := awsconfig.New(getenv)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return New(dynamodb.NewFromConfig(cfg), table), nil
}

// FromConfig builds a Store on the table named by KEY_TABLE_NAME (read with getenv, os.Getenv
// when nil) with a DynamoDB client from cfg, so a function builds one aws.Config (for example
// with its HTTPClient wrapped by metrics.Recorder.Transport) and shares it with its other
// clients. It makes no network call.
func FromConfig(getenv func(string) string, cfg aws.Config) (*Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	table := getenv(EnvTableName)
	if table == "" {
		return nil, ErrNoTable
	}
	if cfg.Region == "" {
		return nil, errors.New("store: the aws.Config has no region")
	}
	return New(dynamodb.NewFromConfig(cfg), table), nil
}
