// Package jsiienv sets the environment variables the jsii runtime (the Node.js process behind
// aws-cdk-go) reads, for the places where this repository starts jsii itself: the test helpers
// and the local harness. A user's own CDK app is left alone, so its users still see jsii's
// warnings about their Node.js version.
package jsiienv

import (
	"os"
	"sync"

	"github.com/aws/jsii-runtime-go"
)

// Silenced are the variables Quiet sets, each only when it is unset:
//   - JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20: Node.js 20 reached its end of life on
//     2026-04-30 and jsii prints a banner about it on every start; the toolkit still works on it
//     (its CI runs on it), and 22 or 24 (LTS) are the recommended versions;
//   - JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1: the banner jsii prints for a Node.js
//     version close to its end of life.
var Silenced = [][2]string{
	{"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"},
	{"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1"},
}

// Quiet sets every variable of Silenced that is unset in this process's environment (a variable
// the user set, even to "", is kept) and restarts jsii's Node.js process so that they take effect.
// jsii reads them once, when that process starts, and aws-cdk-go starts it while its packages
// register their types, at package initialization, before the init function of any importer
// runs; setting the variables alone came too late. Quiet must run before the first jsii object is
// created: call it from an init function, as cdktest and the local harness do. Only the first call
// does anything, so a later one cannot end a runtime that holds objects.
func Quiet() {
	quietOnce.Do(func() {
		setUnset()
		jsii.Close() // no objects yet: the next jsii call starts a process with the new environment
	})
}

var quietOnce sync.Once

// setUnset sets the variables of Silenced that are unset.
func setUnset() {
	for _, kv := range Silenced {
		if _, ok := os.LookupEnv(kv[0]); !ok {
			os.Setenv(kv[0], kv[1])
		}
	}
}
