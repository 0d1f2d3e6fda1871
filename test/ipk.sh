#!/usr/bin/env bash
# Packs a pppoed binary that is already built for an OpenWrt architecture
# into OUTDIR/pppoed_<version>_<arch>.ipk, laid out as OpenWrt's
# scripts/ipkg-build lays it out, with GNU tar, gzip and pigz only:
#
#   outer: gzip -n of a GNU tar holding ./debian-binary ("2.0"),
#          ./data.tar.gz and ./control.tar.gz, in that order
#   inner: GNU tar, sorted by name, members "./...", numeric owner 0:0,
#          every mtime SOURCE_DATE_EPOCH, then gzip -n (control) or
#          pigz -11 -n (data)
#   Installed-Size: the size of the uncompressed data tar, as ipkg-build
#          computes it
#
#   test/ipk.sh ARCH VERSION BINARY OUTDIR
#   test/ipk.sh --goarch ARCH      the GOARCH to build BINARY with
#   test/ipk.sh --archs            the architectures it knows
#
# SOURCE_DATE_EPOCH defaults to the time of the last commit. Maintainer and
# License go into the control file when PPPOED_MAINTAINER and PPPOED_LICENSE
# are set (ipkg-build leaves out what the package does not set).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

# OpenWrt architecture, GOARCH, and the ELF class, byte order and e_machine
# that a binary for it has. mips_24kc and mipsel_24kc have no FPU, so the
# binary is built with GOMIPS=softfloat; arm_cortex-a7 is GOARM=7.
archs='
mipsel_24kc              mipsle 1 1 8
mips_24kc                mips   1 2 8
arm_cortex-a7_neon-vfpv4 arm    1 1 40
aarch64_cortex-a53       arm64  2 1 183
x86_64                   amd64  2 1 62
'

die() {
	echo "ipk.sh: $*" >&2
	exit 2
}

# lookup ARCH prints "goarch class data machine" or fails.
lookup() {
	local a g c d m
	while read -r a g c d m; do
		[[ -n $a && $a == "$1" ]] && { echo "$g $c $d $m"; return 0; }
	done <<<"$archs"
	return 1
}

known() {
	awk 'NF { print $1 }' <<<"$archs" | paste -sd ' ' -
}

case "${1:-}" in
--archs)
	known
	exit 0
	;;
--goarch)
	[[ $# -eq 2 ]] || die "usage: $0 --goarch ARCH"
	info=$(lookup "$2") || die "unknown ARCH '$2' (known: $(known))"
	echo "${info%% *}"
	exit 0
	;;
esac

[[ $# -eq 4 ]] || die "usage: $0 ARCH VERSION BINARY OUTDIR"
arch=$1 version=$2 bin=$3 outdir=$4

info=$(lookup "$arch") || die "unknown ARCH '$arch' (known: $(known))"
read -r _ want_class want_data want_machine <<<"$info"
[[ $version =~ ^[0-9A-Za-z.+~-]+$ ]] || die "bad VERSION '$version'"
[[ -f $bin ]] || die "no binary at $bin"
# pigz -11 is zopfli's deflate: plain gzip that opkg (and busybox, and
# gzip -d) reads, 5 % smaller than gzip -9 for the binary (1,596,912 B
# against 1,519,987 B for the mipsle data.tar.gz), and the same bytes
# whatever the number of threads. gzip -9 instead would make a different
# and larger package, so there is no fallback.
command -v pigz >/dev/null || die "pigz is not installed (test/deps.sh pigz installs it)"

# The binary must be an ELF for ARCH: packing an amd64 build as mipsel is
# an easy mistake that only shows on the router.
read -r -a h <<<"$(od -An -tu1 -N20 -v "$bin" | tr -s ' \n' '  ')"
[[ ${#h[@]} -eq 20 && ${h[0]} == 127 && ${h[1]} == 69 && ${h[2]} == 76 && ${h[3]} == 70 ]] ||
	die "$bin is not an ELF file"
if [[ ${h[5]} == 1 ]]; then machine=$((h[18] + 256 * h[19])); else machine=$((256 * h[18] + h[19])); fi
[[ ${h[4]} == "$want_class" && ${h[5]} == "$want_data" && $machine == "$want_machine" ]] ||
	die "$bin is not built for $arch (ELF class ${h[4]}, data ${h[5]}, machine $machine; want $want_class, $want_data, $want_machine)"

epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
[[ $epoch =~ ^[0-9]+$ ]] || die "bad SOURCE_DATE_EPOCH '$epoch'"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/data ctl=$work/control
files=$root/openwrt/files

# Modes as OpenWrt's INSTALL_BIN (0755), INSTALL_CONF (0600) and
# INSTALL_DATA (0644) give them. The top directory becomes "./" in the
# tar, which opkg lays over /, so it must be 0755 and not mktemp's 0700.
install -d -m0755 "$pkg" "$pkg/usr" "$pkg/usr/sbin" "$pkg/usr/libexec" "$pkg/usr/libexec/rpcd" "$pkg/etc" "$pkg/etc/init.d" \
	"$pkg/etc/config" "$pkg/etc/ppp" "$pkg/etc/uci-defaults"
install -m0755 "$bin" "$pkg/usr/sbin/pppoed"
install -m0755 "$files/pppoed.rpcd" "$pkg/usr/libexec/rpcd/pppoed"
install -m0755 "$root/init.d/pppoed" "$pkg/etc/init.d/pppoed"
install -m0600 "$files/pppoed.config" "$pkg/etc/config/pppoed"
install -m0600 "$files/pppoed-chap-secrets" "$pkg/etc/ppp/pppoed-chap-secrets"
install -m0644 "$files/pppoed.uci-defaults" "$pkg/etc/uci-defaults/50-pppoed"

tarc() {
	tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$epoch" -cf - "$@"
}

(cd "$pkg" && tarc .) | pigz -11 -n >"$work/data.tar.gz"
installed_size=$(gzip -dc "$work/data.tar.gz" | wc -c)

install -d -m0755 "$ctl"
{
	echo "Package: pppoed"
	echo "Version: $version"
	echo "Depends: kmod-pppoe, kmod-tun"
	echo "Source: pppoed"
	echo "SourceName: pppoed"
	[[ -z ${PPPOED_LICENSE:-} ]] || echo "License: $PPPOED_LICENSE"
	echo "Section: net"
	echo "SourceDateEpoch: $epoch"
	[[ -z ${PPPOED_MAINTAINER:-} ]] || echo "Maintainer: $PPPOED_MAINTAINER"
	echo "Architecture: $arch"
	echo "Installed-Size: $installed_size"
	echo "Description:  PPPoE access concentrator: discovery, PPP (PAP, CHAP, MS-CHAPv2,"
	echo " IPCP), an address pool and NAT in one binary, configured through UCI."
} >"$ctl/control"
printf '%s\n' /etc/config/pppoed /etc/ppp/pppoed-chap-secrets | LC_ALL=C sort >"$ctl/conffiles"
chmod 0644 "$ctl/control" "$ctl/conffiles"
install -m0755 "$files/pppoed.postinst" "$ctl/postinst"
install -m0755 "$files/pppoed.prerm" "$ctl/prerm"
(cd "$ctl" && tarc .) | gzip -n >"$work/control.tar.gz"

echo "2.0" >"$work/debian-binary"
chmod 0644 "$work/debian-binary" "$work/data.tar.gz" "$work/control.tar.gz"

mkdir -p "$outdir"
out=$outdir/pppoed_${version}_${arch}.ipk
(cd "$work" && tarc ./debian-binary ./data.tar.gz ./control.tar.gz) | gzip -n >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
