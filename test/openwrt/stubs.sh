# shellcheck shell=sh
# Stand-ins for what an init script gets on OpenWrt from rc.common,
# /lib/functions.sh, /lib/functions/network.sh and procd.sh, so that
# openwrt_test.go can run start_service and service_triggers on a PC.
#
# UCI values are kept as functions.sh keeps them (CONFIG_<section>_<option>,
# lists as _ITEMn and _LENGTH), and config_load reads $UCI_CONFIG_DIR/<name>:
# a UCI file is valid shell once config, option and list are functions,
# which is also how the real config_load evaluates `uci export`.
#
# Logical networks come from $STUB_NETWORKS, words of the form
# name=physdev:l3dev; an empty l3dev is a network that is down.
#
# Every procd, network and logger call is appended to $STUB_LOG, one call a
# line: the function name and its arguments separated by \037.
# These functions stand in for others' and keep their local style (SC3043).
# shellcheck disable=SC3043

stub_log() {
	{
		printf '%s' "$1"
		shift
		for _a in "$@"; do
			printf '\037%s' "$_a"
		done
		printf '\n'
	} >>"$STUB_LOG"
}

package() {
	return 0
}

config() {
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	CONFIG_SECTION="${2:-cfg$CONFIG_NUM_SECTIONS}"
	CONFIG_SECTIONS="${CONFIG_SECTIONS:+$CONFIG_SECTIONS }$CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
}

option() {
	config_set "$CONFIG_SECTION" "$1" "$2"
}

list() {
	local len
	config_get len "$CONFIG_SECTION" "${1}_LENGTH" 0
	[ "$len" = 0 ] && CONFIG_LIST_STATE="$CONFIG_LIST_STATE ${CONFIG_SECTION}_$1"
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${1}_ITEM$len" "$2"
	config_set "$CONFIG_SECTION" "${1}_LENGTH" "$len"
	eval "CONFIG_${CONFIG_SECTION}_$1=\"\${CONFIG_${CONFIG_SECTION}_$1:+\$CONFIG_${CONFIG_SECTION}_$1 }\$2\""
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

config_load() {
	local v
	stub_log config_load "$@"
	for v in $CONFIG_LIST_STATE; do
		eval "CONFIG_$v= CONFIG_${v}_LENGTH="
	done
	CONFIG_LIST_STATE=
	CONFIG_SECTIONS=
	CONFIG_NUM_SECTIONS=0
	CONFIG_SECTION=
	[ -f "$UCI_CONFIG_DIR/$1" ] || return 1
	# shellcheck source=/dev/null
	. "$UCI_CONFIG_DIR/$1"
}

# config_get VAR SECTION OPTION [DEFAULT], or config_get SECTION OPTION.
config_get() {
	case "$3" in
	"") eval "echo \"\${CONFIG_${1}_${2}:-\${4}}\"" ;;
	*) eval "${1}=\${CONFIG_${2}_${3}:-\${4}}" ;;
	esac
}

get_bool() {
	case "$1" in
	1 | on | true | yes | enabled) printf 1 ;;
	0 | off | false | no | disabled) printf 0 ;;
	*) printf '%s' "$2" ;;
	esac
}

config_get_bool() {
	local _tmp
	config_get _tmp "$2" "$3" "$4"
	_tmp="$(get_bool "$_tmp" "$4")"
	eval "$1=\$_tmp"
}

config_foreach() {
	local ___function="$1" ___type="$2" section cfgtype
	shift 2
	for section in $CONFIG_SECTIONS; do
		config_get cfgtype "$section" TYPE
		[ -n "$___type" ] && [ "$cfgtype" != "$___type" ] && continue
		"$___function" "$section" "$@"
	done
}

config_list_foreach() {
	[ "$#" -ge 3 ] || return 0
	local section="$1" option="$2" function="$3" val len c=1
	shift 3
	config_get len "$section" "${option}_LENGTH"
	[ -z "$len" ] && return 0
	while [ "$c" -le "$len" ]; do
		config_get val "$section" "${option}_ITEM$c"
		"$function" "$val" "$@"
		c=$((c + 1))
	done
}

# stub_network NAME FIELD prints the physdev (2) or l3dev (3) of NAME and
# fails when NAME is not in $STUB_NETWORKS or the field is empty.
stub_network() {
	local w dev
	for w in $STUB_NETWORKS; do
		[ "${w%%=*}" = "$1" ] || continue
		w="${w#*=}"
		if [ "$2" = 2 ]; then dev="${w%%:*}"; else dev="${w#*:}"; fi
		[ -n "$dev" ] || return 1
		printf '%s' "$dev"
		return 0
	done
	return 1
}

network_get_physdev() {
	local _dev
	stub_log network_get_physdev "$2"
	_dev="$(stub_network "$2" 2)" || return 1
	eval "$1=\$_dev"
}

network_get_device() {
	local _dev
	stub_log network_get_device "$2"
	_dev="$(stub_network "$2" 3)" || return 1
	eval "$1=\$_dev"
}

logger() { stub_log logger "$@"; }
procd_open_service() { stub_log procd_open_service "$@"; }
procd_close_service() { stub_log procd_close_service; }
procd_open_instance() { stub_log procd_open_instance "$@"; }
procd_set_param() { stub_log procd_set_param "$@"; }
procd_append_param() { stub_log procd_append_param "$@"; }
procd_close_instance() { stub_log procd_close_instance "$@"; }
procd_open_trigger() { stub_log procd_open_trigger; }
procd_close_trigger() { stub_log procd_close_trigger; }
procd_add_reload_trigger() { stub_log procd_add_reload_trigger "$@"; }
procd_add_interface_trigger() { stub_log procd_add_interface_trigger "$@"; }
