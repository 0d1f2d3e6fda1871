//go:build !linux

package main

import (
	"net/netip"
	"os"
)

type kernelSession struct {
	ch, unit *os.File
	name     string
}

func kernelPPPAvailable() error                                        { return errUnimplemented }
func openKernelSession(string, uint16, hwAddr) (*kernelSession, error) { return nil, errUnimplemented }
func (*kernelSession) newUnit(int, int) error                          { return errUnimplemented }
func (*kernelSession) setNPMode(bool) error                            { return errUnimplemented }
func (*kernelSession) configure(netip.Addr, netip.Addr, int) error     { return errUnimplemented }
func (*kernelSession) write([]byte) error                              { return errUnimplemented }
func (*kernelSession) close() error                                    { return nil }
