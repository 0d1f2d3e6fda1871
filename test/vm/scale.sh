#!/usr/bin/env bash
# sudo make vm-scale: 1,000 kernel-mode sessions in the VM (Debian's kernel
# under qemu, 2 vCPUs): `pppoed client` dials them against `pppoed -k` and
# scenarios/scale.sh prints the setup rate, pppoed's RSS per session, the
# sessions that flapped while all were up, and how long tearing them down
# took. About 2 to 4 minutes under TCG.
#
#   COUNT, RATE, HOLD  as scenarios/scale.sh says (1000, 200, 30)
#   SERVER             another pppoed to measure as the AC (the client is
#                      always this tree's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ $(id -u) != 0 ]]; then
	echo "vm-scale: run it as root (sudo make vm-scale)" >&2
	exit 1
fi
"$here/build.sh" >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$here/../.." && CGO_ENABLED=0 go build -trimpath -o "$dir/pppoed" .)
ac=/mnt/host/pppoed
if [[ -n ${SERVER:-} ]]; then
	cp "$SERVER" "$dir/pppoed-ac"
	ac=/mnt/host/pppoed-ac
fi
exec "$here/run.sh" -s "$dir" -t 1800 -e COUNT="${COUNT:-1000}" -e RATE="${RATE:-200}" -e HOLD="${HOLD:-30}" \
	-e AC="$ac" ${GOGC:+-e GOGC=$GOGC} -f "$here/scenarios/scale.sh"
