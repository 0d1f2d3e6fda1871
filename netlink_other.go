//go:build !linux

package main

import "net/netip"

func addRoute(string, netip.Prefix) error                { return errUnimplemented }
func delRoute(string, netip.Prefix) error                { return errUnimplemented }
func addRouteVia(string, netip.Prefix, netip.Addr) error { return errUnimplemented }
func addDefaultRoute(string) error                       { return errUnimplemented }
func addRouteMTU(string, netip.Prefix, int) error        { return errUnimplemented }
