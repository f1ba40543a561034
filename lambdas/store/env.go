package store

import (
	"errors"
	"fmt"
	"os"

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
