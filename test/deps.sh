#!/usr/bin/env bash
# Installs what `make test` needs on Debian when run as root: the real PPPoE
# peers we test against, the tools the network tests use, and the Go modules.
# As another user it only reports what is missing; the tests that need a
# missing tool then skip (and fail under CI=true).
#
#   test/deps.sh            everything, then go mod download
#   test/deps.sh PKG...     only these Debian packages (make ipk: pigz)
set -euo pipefail

pkgs=(ppp pppoe iproute2 tcpdump python3-scapy iputils-ping curl qemu-user nftables iptables shellcheck busybox systemd freeradius freeradius-utils sqlite3 pigz)
only=$#
((only == 0)) || pkgs=("$@")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "deps: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "deps: missing ${missing[*]} (run $0 $* as root on Debian to install them)"
		((only == 0)) || exit 1
	fi
fi

((only)) || go mod download
