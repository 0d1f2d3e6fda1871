//go:build !linux

package main

import (
	"errors"
	"net"
)

var errUnimplemented = errors.New("pppoe: not implemented on this platform")

type packetLink struct{}

func openPacketLink(*net.Interface, uint16) (*packetLink, error) { return nil, errUnimplemented }
func (*packetLink) readFrame([]byte) (int, error)                { return 0, errUnimplemented }
func (*packetLink) writeFrame([]byte) error                      { return errUnimplemented }
func (*packetLink) newWriter() frameWriter                       { return nil }
func (*packetLink) close() error                                 { return errUnimplemented }

func (*packetLink) setPromiscuous(bool) error    { return errUnimplemented }
func (*packetLink) kernelDrops() (uint64, error) { return 0, errUnimplemented }

func (*packetLink) newBatchWriter() frameFlusher { return nil }
