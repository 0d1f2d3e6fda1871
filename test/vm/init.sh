#!/bin/busybox sh
# init.sh is /init of the initramfs that build.sh packs. It mounts the usual
# file systems and the 9p share (kernel command line vm.share=TAG), runs
# /lab/cmd.sh (appended to the initramfs by run.sh) under bash with its
# output on the virtio-serial port named vm.out, and reports the status as
# VM_RC=n on the kernel console, where run.sh reads it. Real tools are
# called by path: busybox sh would run its own applets ahead of PATH.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/net
mount -t devpts -o ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /run/lock
ln -sf /proc/self/fd /dev/fd
# Opening these autoloads ppp_generic and tun, as kmod's static nodes do.
[ -e /dev/ppp ] || mknod -m 600 /dev/ppp c 108 0
[ -e /dev/net/tun ] || mknod -m 666 /dev/net/tun c 10 200
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname vm
/bin/ip link set lo up

share=
for a in $(cat /proc/cmdline); do
	case $a in vm.share=*) share=${a#vm.share=} ;; esac
done
/sbin/modprobe -a virtio_pci virtio_console ${share:+9pnet_virtio 9p}
if [ -n "$share" ]; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "$share" /mnt/host ||
		echo "<2>VM: mounting the 9p share failed" >/dev/kmsg
fi
# The port's device name depends on probe order; its name does not.
out=
i=0
while [ -z "$out" ] && [ $i -lt 200 ]; do
	for d in /sys/class/virtio-ports/*; do
		[ "$(cat "$d/name" 2>/dev/null)" = vm.out ] && [ -c "/dev/${d##*/}" ] && out=/dev/${d##*/}
	done
	[ -n "$out" ] || sleep 0.02
	i=$((i + 1))
done
[ -n "$out" ] || out=/dev/console

cd /mnt/host 2>/dev/null || cd /root
/bin/bash /lab/cmd.sh >"$out" 2>&1 </dev/null
rc=$?
echo "<2>VM_RC=$rc" >/dev/kmsg
sync
poweroff -f
