//go:build noclient

// The router binary (make cross, make ipk, or make for another GOARCH) is
// built with -tags noclient: the load client stays out of it.

package main

import (
	"fmt"
	"io"
)

func clientMain(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pppoed client: not in this build: the router binary leaves the load client out (build with make on the machine that dials)")
	return 2
}
