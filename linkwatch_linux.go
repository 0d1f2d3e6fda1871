// Link changes from rtnetlink, for interfaces that are deleted and created
// again (a bridge rebuilt by netifd, a USB NIC replugged).
//
// The watcher's goroutine alone reads its NETLINK_ROUTE socket, subscribed
// to RTNLGRP_LINK, and posts what it reads to the loop as linkChange events;
// the loop decides (ifacewatch.go). When the socket overflows (ENOBUFS) some
// changes were lost, and it posts a resync instead, after which the loop
// looks every served interface up again. close unblocks the reader through
// the runtime poller.

package main

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

type linkWatch struct {
	f  *os.File
	wg sync.WaitGroup
}

// openLinkWatch subscribes to link changes in the calling thread's network
// namespace.
func openLinkWatch() (*linkWatch, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, os.NewSyscallError("socket NETLINK_ROUTE", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind RTMGRP_LINK", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 1<<20) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	}
	return &linkWatch{f: os.NewFile(uintptr(fd), "rtnetlink")}, nil
}

// start reads link changes and hands each to post until close.
func (w *linkWatch) start(post func(linkChange)) {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		buf := make([]byte, 64<<10)
		var n int
		var rerr error
		read := func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		}
		for {
			if err := rc.Read(read); err != nil {
				return // closed
			}
			if rerr == unix.ENOBUFS {
				post(linkChange{resync: true})
				continue
			}
			if rerr != nil {
				if errors.Is(rerr, unix.EBADF) {
					return
				}
				// Something else: look again, but not in a spin.
				post(linkChange{resync: true})
				time.Sleep(time.Second)
				continue
			}
			parseLinkChanges(buf[:n], post)
		}
	}()
}

func (w *linkWatch) close() {
	w.f.Close()
	w.wg.Wait()
}

// parseLinkChanges hands each RTM_NEWLINK and RTM_DELLINK in b, one read
// of the socket, to post.
func parseLinkChanges(b []byte, post func(linkChange)) {
	for len(b) >= unix.SizeofNlMsghdr {
		n := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if n < unix.SizeofNlMsghdr || n > len(b) {
			return
		}
		m := b[unix.SizeofNlMsghdr:n]
		b = b[min(nlmAlign(n), len(b)):]
		if typ != unix.RTM_NEWLINK && typ != unix.RTM_DELLINK || len(m) < unix.SizeofIfInfomsg {
			continue
		}
		c := linkChange{
			index:   int(int32(binary.NativeEndian.Uint32(m[4:8]))),
			flags:   binary.NativeEndian.Uint32(m[8:12]),
			deleted: typ == unix.RTM_DELLINK,
		}
		for a := m[unix.SizeofIfInfomsg:]; len(a) >= unix.SizeofRtAttr; {
			al := int(binary.NativeEndian.Uint16(a[0:2]))
			at := binary.NativeEndian.Uint16(a[2:4])
			if al < unix.SizeofRtAttr || al > len(a) {
				break
			}
			if at == unix.IFLA_IFNAME {
				v := a[unix.SizeofRtAttr:al]
				for len(v) > 0 && v[len(v)-1] == 0 {
					v = v[:len(v)-1]
				}
				c.name = string(v)
			}
			a = a[min(nlmAlign(al), len(a)):]
		}
		post(c)
	}
}
