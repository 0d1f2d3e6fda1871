//go:build !linux

package main

type linkWatch struct{}

func openLinkWatch() (*linkWatch, error)       { return nil, errUnimplemented }
func (*linkWatch) start(post func(linkChange)) {}
func (*linkWatch) close()                      {}
