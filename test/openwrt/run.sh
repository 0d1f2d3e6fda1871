#!/bin/sh
# Runs an OpenWrt init script's start the way rc.common does for a procd
# service (procd_open_service, start_service, service_triggers inside the
# trigger list, procd_close_service), with stubs.sh in place of OpenWrt.
#
#   UCI_CONFIG_DIR=DIR STUB_LOG=FILE [STUB_NETWORKS='lan=br-lan:br-lan ...'] \
#       test/openwrt/run.sh INITSCRIPT
#
# rc.common sets name and initscript for the script it runs (SC2034).
# shellcheck disable=SC2034 source-path=SCRIPTDIR
set -e

[ "$#" -eq 1 ] || {
	echo "usage: UCI_CONFIG_DIR=DIR STUB_LOG=FILE $0 INITSCRIPT" >&2
	exit 2
}
: "${UCI_CONFIG_DIR:?}" "${STUB_LOG:?}"

initscript="$1"
name="${initscript##*/}"

# shellcheck source=stubs.sh
. "$(dirname "$0")/stubs.sh"
set +e
# shellcheck source=/dev/null
. "$initscript"

procd_open_service "$name"
start_service
procd_open_trigger
service_triggers
procd_close_trigger
procd_close_service
