//go:build !linux

package main

import "net/netip"

type tunDevice struct{}

func openTUN(string, int) (*tunDevice, error)           { return nil, errUnimplemented }
func (*tunDevice) name() string                         { return "" }
func (*tunDevice) readPacket([]byte) (int, error)       { return 0, errUnimplemented }
func (*tunDevice) writePacket([]byte) error             { return errUnimplemented }
func (*tunDevice) close() error                         { return errUnimplemented }
func (*tunDevice) setAddr(netip.Addr, netip.Addr) error { return errUnimplemented }
func (*tunDevice) addAddr6(netip.Addr, int) error       { return errUnimplemented }
