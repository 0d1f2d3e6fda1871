//go:build !linux

package main

type kernelPath struct{ dataPath }

func kernelPPPAvailable() error                  { return errUnimplemented }
func newKernelPath(*config) (*kernelPath, error) { return nil, errUnimplemented }
