#!/usr/bin/env bash
# build.sh builds the kernel and initramfs that run.sh boots: Debian 12's own
# kernel (this host's has no PPP) and a busybox initramfs holding Debian's
# pppd, rp-pppoe, iproute2 (ip and tc), nftables, iptables, iperf3,
# tcpdump and WIDE-DHCPv6's client (dhcp6c) with the PPP, veth, dummy, tun,
# netfilter (with nft's fib and the rpfilter match), tc (tbf, ingress, matchall, police) and virtio modules. Nothing from Debian's mirror
# is installed on the host: the .debs are fetched with apt-get and unpacked
# with dpkg -x. Only the host tools it needs (qemu-system-x86, xz, and
# gcc/make/patch for the kernel-mode pppoe-server) are installed, when
# missing and when run as root.
#
#   test/vm/build.sh               # no-op in well under a second once built
#   REFRESH=1 test/vm/build.sh     # re-fetch (a new Debian kernel ABI, say)
#
# Output in ${PPPOED_VM_CACHE:-$HOME/.cache/pppoed-vm}: vmlinux (the ELF
# kernel, booted through PVH: no in-guest decompression under TCG),
# initramfs.img, and stamp. Env: KPKG pins the kernel package
# (linux-image-6.1.0-NN-amd64); KSERVER=0 skips the kernel-mode pppoe-server.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
C=${PPPOED_VM_CACHE:-$HOME/.cache/pppoed-vm}
key=$(cat "$here/build.sh" "$here/init.sh" | sha256sum | cut -c1-16)-${KPKG:-}-${KSERVER:-1}
if [[ -z ${REFRESH:-} && -s $C/vmlinux && -s $C/initramfs.img && $(cat "$C/stamp" 2>/dev/null) == "$key" ]]; then
	exit 0
fi

t0=$SECONDS
log() { printf '[vm build +%ss] %s\n' $((SECONDS - t0)) "$*" >&2; }
mkdir -p "$C"
cd "$C"
exec 9>.lock
flock 9
rm -f stamp

# apt-get fails at once on a held lock; the other users of apt here wait.
apt_opts=(-q -o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root)
updated=
apt_update() { [[ -n $updated ]] || { log "apt-get update"; apt-get "${apt_opts[@]}" update >/dev/null; updated=1; }; }

# Host tools, installed only when missing.
want=()
command -v qemu-system-x86_64 >/dev/null || want+=(qemu-system-x86)
command -v xz >/dev/null || want+=(xz-utils)
if [[ ${KSERVER:-1} != 0 ]]; then
	for t in cc make patch; do command -v $t >/dev/null || { want+=(gcc make patch libc6-dev); break; }; done
fi
if ((${#want[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "vm build: missing ${want[*]}; run as root or apt-get install them" >&2
		exit 3
	fi
	apt_update
	log "apt-get install ${want[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y --no-install-recommends "${want[@]}" >/dev/null
fi
[[ -z ${REFRESH:-} ]] && apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt_update

# fetch runs an apt-get download; on failure the host's lists may be older
# than the mirror, so it updates them once and tries again.
fetch() { "$@" >>"$C/apt.log" 2>&1 || { apt_update; "$@" >>"$C/apt.log" 2>&1; } || { cat "$C/apt.log" >&2; exit 1; }; }
: >"$C/apt.log"

# The kernel: whatever linux-image-amd64 depends on, unless KPKG pins it.
# Old ABIs leave the mirror, so a failed download looks again after an update.
kernel_pkg() { echo "${KPKG:-$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')}"; }
kpkg=$(kernel_pkg)
if [[ ! -e kernel/${kpkg#linux-image-}.done ]]; then
	log "apt-get download $kpkg"
	rm -rf kernel debs-kernel && mkdir kernel debs-kernel
	cd debs-kernel
	apt-get "${apt_opts[@]}" download "$kpkg" >>"$C/apt.log" 2>&1 || {
		apt_update
		kpkg=$(kernel_pkg)
		fetch apt-get "${apt_opts[@]}" download "$kpkg"
	}
	cd "$C"
	dpkg -x debs-kernel/"$kpkg"_*.deb kernel
	touch "kernel/${kpkg#linux-image-}.done"
fi
kver=${kpkg#linux-image-}
K=$C/kernel

# The userland: the full dependency closure, got by resolving against an
# empty dpkg status, so it does not depend on what the host has installed.
pkgs="busybox-static bash dash kmod procps iproute2 ppp pppoe iperf3 nftables iptables tcpdump wide-dhcpv6-client"
if [[ $(cat sysroot/.pkgs 2>/dev/null) != "$pkgs" ]] || [[ -n ${REFRESH:-} ]]; then
	log "apt-get install --download-only $pkgs"
	rm -rf debs sysroot && mkdir -p debs/partial apt-state sysroot
	: >apt-state/status
	fetch apt-get "${apt_opts[@]}" -o Dir::State::status="$C/apt-state/status" \
		-o Dir::Cache::archives="$C/debs" -o Debug::NoLocking=1 -o APT::Install-Recommends=0 \
		install --download-only -y $pkgs
	for d in debs/*.deb; do dpkg -x "$d" sysroot; done
	echo "$pkgs" >sysroot/.pkgs
fi
S=$C/sysroot
ldso=$S/lib64/ld-linux-x86-64.so.2
libpath=$S/lib/x86_64-linux-gnu:$S/usr/lib/x86_64-linux-gnu
kmod() { "$ldso" --library-path "$libpath" --argv0 "$1" "$S/bin/kmod" "${@:2}"; }

# vmlinux: the bzImage's xz payload is an ELF that qemu boots through PVH,
# which saves the 3-4 s the guest spends decompressing under TCG.
if [[ ! -s vmlinux-$kver ]]; then
	log "extract vmlinux"
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$K/boot/vmlinuz-$kver" | head -1 | cut -d: -f1)
	# xz complains about the bytes after the stream; the ELF check below decides.
	tail -c +$((off + 1)) "$K/boot/vmlinuz-$kver" | xz -dc 2>/dev/null >vmlinux.tmp || true
	[[ $(head -c4 vmlinux.tmp | od -An -tx1 | tr -d ' ') == 7f454c46 ]] || { echo "vm build: no ELF in $K/boot/vmlinuz-$kver" >&2; exit 1; }
	rm -f vmlinux-*
	mv vmlinux.tmp "vmlinux-$kver"
fi
ln -sfn "vmlinux-$kver" vmlinux

# A kernel-mode pppoe-server for comparison: Debian builds rp-pppoe without
# --enable-plugin, so its pppoe-server has no -k. Rebuild Debian's source,
# with Debian's patches, fetched through a private deb-src list so the
# host's apt configuration is untouched.
if [[ ${KSERVER:-1} != 0 && ! -x src/pppoe-server-k ]]; then
	log "build kernel-mode pppoe-server from Debian's rp-pppoe source"
	(
		set -e
		rm -rf src && mkdir -p src/lists/partial && cd src
		. /etc/os-release
		uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' |
			awk -v r="$VERSION_CODENAME" '$2 == r {print $1; exit}')
		echo "deb-src ${uri:-http://deb.debian.org/debian/} $VERSION_CODENAME main" >sources.list
		o=("${apt_opts[@]}" -o Dir::Etc::SourceList="$PWD/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$PWD/lists")
		apt-get "${o[@]}" update
		apt-get "${o[@]}" source --download-only rp-pppoe
		apt-get "${apt_opts[@]}" download ppp-dev
		dpkg -x ppp-dev_*.deb ppp-dev
		mkdir b
		tar -xzf rp-pppoe_*.orig.tar.gz -C b --strip-components=1
		tar -xJf rp-pppoe_*.debian.tar.xz -C b
		cd b
		grep -v '^#' debian/patches/series | while read -r p; do [[ -z $p ]] || patch -p1 -s <"debian/patches/$p"; done
		cd src
		PPPD=/usr/sbin/pppd ./configure --enable-plugin="$C/src/ppp-dev/usr/include"
		grep -q 'define HAVE_LINUX_KERNEL_PPPOE 1' config.h
		make -s pppoe-server PLUGIN_PATH=/usr/lib/pppd/2.4.9/rp-pppoe.so
		cp pppoe-server ../../pppoe-server-k
	) >kserver.log 2>&1 || log "WARNING: no kernel-mode pppoe-server (see $C/kserver.log)"
fi

# The initramfs tree.
R=$C/root
rm -rf "$R" && mkdir -p "$R" && cd "$R"
mkdir -p bin sbin usr/bin usr/sbin lib64 etc/ppp/peers etc/wide-dhcpv6 proc sys dev run tmp mnt/host root var/log var/lib/dhcpv6 lab
ln -s ../run var/run
copied=" "
copy() { # copy a sysroot file to the same path in the tree, following links
	local rel=${1#"$S"/}
	[[ $copied == *" $rel "* ]] && return
	copied+="$rel "
	mkdir -p "$(dirname "$rel")"
	cp -L "$1" "$rel"
}
copy_elf() { # a binary or library and its shared-library closure
	copy "$1"
	"$ldso" --library-path "$libpath" --verify "$1" >/dev/null 2>&1 || return 0
	local lib
	for lib in $("$ldso" --library-path "$libpath" --list "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do copy "$lib"; done
	copy "$ldso"
}
# Debian's busybox-static runs its own applets ahead of PATH inside busybox
# sh (ip is then busybox's ip), so scripts run under bash and /bin/sh is
# dash; busybox only fills the gaps.
cp "$S/bin/busybox" bin/
for a in $(bin/busybox --list); do [[ -e bin/$a ]] || ln -s busybox "bin/$a"; done
for b in /usr/sbin/pppd /usr/sbin/pppoe /usr/sbin/pppoe-server /usr/sbin/pppoe-discovery \
	/bin/ip /sbin/tc /usr/sbin/nft /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi \
	/usr/bin/iperf3 /usr/bin/tcpdump /usr/sbin/dhcp6c /bin/kmod /bin/bash /bin/dash /bin/ps /usr/bin/pgrep /usr/bin/pkill; do
	rm -f "bin/${b##*/}"
	copy_elf "$S$b"
done
for p in "$S"/usr/lib/pppd/*/*.so "$S"/usr/lib/x86_64-linux-gnu/xtables/*.so; do copy_elf "$p"; done
[[ ${KSERVER:-1} != 0 && -x $C/src/pppoe-server-k ]] && cp "$C/src/pppoe-server-k" usr/sbin/
ln -sf dash bin/sh
for k in modprobe insmod rmmod lsmod modinfo depmod; do rm -f "bin/$k"; ln -s ../bin/kmod "sbin/$k"; done
for x in iptables iptables-save iptables-restore iptables-nft ip6tables ip6tables-save ip6tables-restore; do rm -f "bin/$x"; ln -s xtables-nft-multi "usr/sbin/$x"; done
ln -s xtables-legacy-multi usr/sbin/iptables-legacy
cp "$S/etc/protocols" "$S/etc/services" etc/
cp -a "$S/etc/iproute2" etc/
printf 'root:x:0:0:root:/root:/bin/bash\ntcpdump:x:101:101::/nonexistent:/bin/false\nnobody:x:65534:65534::/nonexistent:/bin/false\n' >etc/passwd
printf 'root:x:0:\ntcpdump:x:101:\nnogroup:x:65534:\n' >etc/group
printf '127.0.0.1 localhost\n' >etc/hosts
# Debian's /etc/ppp/options says auth, lock, modem: the scenarios say what they mean.
: >etc/ppp/options
mkdir -p etc/ppp/plugins && ln -s /usr/lib/pppd/2.4.9/rp-pppoe.so etc/ppp/plugins/rp-pppoe.so

# Modules with their dependencies, and a modules.dep of their own, so
# modprobe and the kernel's autoloading (/dev/ppp, veth, nft) find them.
mods="virtio_pci 9pnet_virtio 9p virtio_console
	slhc ppp_generic pppox pppoe ppp_async veth dummy tun
	nf_tables nft_chain_nat nft_nat nft_masq nft_ct nft_compat
	ip_tables iptable_nat iptable_mangle iptable_filter xt_MASQUERADE xt_TCPMSS xt_tcpmss xt_tcpudp xt_conntrack xt_nat xt_comment
	nft_fib_inet iptable_raw ip6table_raw ipt_rpfilter ip6t_rpfilter
	sch_tbf sch_ingress cls_matchall act_police"
[[ -e $K/lib/modules/$kver/modules.dep ]] || kmod depmod -b "$K" "$kver"
M=lib/modules/$kver
mkdir -p "$M"
cp "$K/$M"/modules.{builtin,builtin.modinfo,order} "$M/"
# shellcheck disable=SC2086
kmod modprobe -d "$K" -S "$kver" --show-depends -a $mods |
	while read -r kind path _; do
		[[ $kind == insmod && ! -e ${path#"$K"/} ]] || continue
		mkdir -p "$(dirname "${path#"$K"/}")"
		cp "$path" "${path#"$K"/}"
	done
kmod depmod -b "$R" "$kver"

cp "$here/init.sh" init
chmod 755 init
# Uncompressed: measured 0.05-0.1 s faster to boot than lz4 under TCG.
find . -mindepth 1 | LC_ALL=C sort | bin/busybox cpio -o -H newc -R 0:0 2>/dev/null >"$C/initramfs.img"
log "built $kver, initramfs $(du -h "$C/initramfs.img" | cut -f1)"
echo "$key" >"$C/stamp"
