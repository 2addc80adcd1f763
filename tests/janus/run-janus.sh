#!/bin/sh
# Start the roomcast test Janus with per-run ports, without touching tests/janus or /etc.
#   tests/janus/run-janus.sh HTTP_PORT [WS_PORT] [-- extra janus args...]
# Example: tests/janus/run-janus.sh 18088 18188 -- -r 21000-21999 -s 10 -d 4
# Copies the *.jcfg files into a temporary folder, rewrites the ports with sed, then
# exec's janus (so the PID you get is janus' PID; kill it with SIGTERM or SIGINT).
# The temporary folder is printed on stderr; it is left behind (tiny).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
http_port=${1:?usage: run-janus.sh HTTP_PORT [WS_PORT] [-- janus args]}; shift
ws_port=0
if [ $# -gt 0 ] && [ "$1" != "--" ]; then ws_port=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/roomcast-janus.XXXXXX")
cp "$here"/*.jcfg "$dir"/
sed -i -E "s/^([[:space:]]*port[[:space:]]*=[[:space:]]*)[0-9]+/\1$http_port/" "$dir/janus.transport.http.jcfg"
if [ "$ws_port" = 0 ]; then
	# no WebSockets port given: do not load the WebSockets transport at all
	sed -i -E 's/^([[:space:]]*disable = "libjanus_mqtt.so)/\1,libjanus_websockets.so/' "$dir/janus.jcfg"
else
	sed -i -E "s/^([[:space:]]*ws_port[[:space:]]*=[[:space:]]*)[0-9]+/\1$ws_port/" "$dir/janus.transport.websockets.jcfg"
fi
echo "roomcast test janus: config in $dir, HTTP $http_port, WS $ws_port" >&2
exec janus -C "$dir/janus.jcfg" -F "$dir" "$@"
