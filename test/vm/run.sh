#!/usr/bin/env bash
# run.sh boots the kernel and initramfs that build.sh made under qemu (TCG,
# no KVM needed), runs a script with bash inside, streams its output to
# stdout, powers off and exits with the script's status.
#
#   test/vm/run.sh [-s HOSTDIR] [-e VAR=VAL]... [-t SECS] [-v] -f script.sh
#   test/vm/run.sh [-s HOSTDIR] [-e VAR=VAL]... [-t SECS] [-v] 'commands'
#
#   -s HOSTDIR  share HOSTDIR read-write at /mnt/host (9p), the script's cwd;
#               files the VM creates there belong to root
#   -e VAR=VAL  export VAR to the script (repeatable)
#   -t SECS     time limit for the whole run (default 600)
#   -v          copy the kernel console to stderr
#
# Exit status: the script's; 124 on timeout; 125 when the VM died without
# reporting one (the console is then printed to stderr). The VM has no
# network device to the outside: -nodefaults and no -netdev. Env:
# PPPOED_VM_CACHE (as build.sh), PPPOED_VM_MEM (default 1G).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
C=${PPPOED_VM_CACHE:-$HOME/.cache/pppoed-vm}
share='' script='' limit=600 verbose=''
envs=()
while getopts "s:e:t:f:v" o; do
	case $o in
	s) share=$OPTARG ;;
	e) envs+=("$OPTARG") ;;
	t) limit=$OPTARG ;;
	f) script=$OPTARG ;;
	v) verbose=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [[ -z $script && $# -eq 0 ]]; then
	echo "usage: $0 [-s HOSTDIR] [-e VAR=VAL]... [-t SECS] [-v] -f script.sh | 'commands'" >&2
	exit 2
fi
for f in "$C/vmlinux" "$C/initramfs.img"; do
	[[ -e $f ]] || { echo "run.sh: no $f: run $here/build.sh first" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/pppoed-vm.XXXXXX)
pids=()
trap 'for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

# The script travels as /lab/cmd.sh in a small cpio put in front of the
# initramfs (the kernel unpacks concatenated archives), so a new script
# never means a rebuild.
mkdir -p "$tmp/root/lab"
{
	for e in ${envs[@]+"${envs[@]}"}; do printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"; done
	if [[ -n $script ]]; then cat "$script"; else printf '%s\n' "$*"; fi
} >"$tmp/root/lab/cmd.sh"
(cd "$tmp/root" && find lab | "$C/root/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) >"$tmp/initrd"
cat "$C/initramfs.img" >>"$tmp/initrd"

append="console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off 8250.nr_uarts=1 no_timer_check tsc=reliable i8042.noaux i8042.nomux i8042.nopnp"
args=(-machine pc -accel tcg,tb-size=256 -cpu max -smp 2 -m "${PPPOED_VM_MEM:-1G}"
	-nodefaults -no-user-config -nographic -no-reboot -monitor none
	-kernel "$C/vmlinux" -initrd "$tmp/initrd")
if [[ -n $share ]]; then
	mkdir -p "$share"
	args+=(-fsdev "local,id=host,path=$(readlink -f "$share"),security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=host,mount_tag=host)
	append+=" vm.share=host"
fi
# The kernel console goes to a file, for VM_RC and post-mortems. The
# script's output takes a virtio-serial port (a UART manages ~250 KB/s)
# into a FIFO that cat copies to stdout: qemu's stdio backend would block
# the guest once stdin is at EOF.
mkfifo "$tmp/out"
cat "$tmp/out" &
catpid=$!
pids+=("$catpid")
console=$tmp/console
: >"$console"
args+=(-serial "file:$console" -chardev "file,id=out,path=$tmp/out"
	-device virtio-serial-pci,id=vser -device virtserialport,chardev=out,bus=vser.0,name=vm.out
	-append "$append")
if [[ -n $verbose ]]; then
	tail -f "$console" >&2 &
	pids+=($!)
fi

set +e
timeout -k 5 "$limit" qemu-system-x86_64 "${args[@]}" </dev/null 2>"$tmp/qemu.err"
qrc=$?
set -e
# If qemu never opened the FIFO, cat still waits for a writer: be one.
exec 3<>"$tmp/out"
exec 3>&-
wait "$catpid" || true
sed 's/^/qemu: /' "$tmp/qemu.err" >&2

rc=$(grep -a -o 'VM_RC=[0-9]*' "$console" | tail -1 | cut -d= -f2 || true)
if [[ $qrc == 124 || $qrc == 137 ]]; then
	echo "run.sh: timed out after ${limit}s; the console's last lines:" >&2
	tail -20 "$console" >&2
	exit 124
elif [[ -z $rc ]]; then
	echo "run.sh: the VM ended without a status (qemu exit $qrc); its console:" >&2
	cat "$console" >&2
	exit 125
fi
exit "$rc"
