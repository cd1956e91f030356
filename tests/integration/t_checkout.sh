# t_checkout.sh: `scripts/dev up` from a checkout in a 0700 home, in a path with a space.
# Debian 12 makes every home 0700, and the services run as their own users (PostgreSQL
# as postgres, Apache's children as www-data, memcached as nobody): they must not need
# to enter the checkout; and autotools refuse a source path with a blank.  Copies of the
# tree in $STATE/ck-home (0700, as /root is), one named "sb-checkout" and one "sb checkout",
# run `up` with the test build (SB_BUILD), answer, and go `down`.
# Sourced by run.sh; everything it starts is stopped by the copy's `scripts/dev down`.

ck_home=$STATE/ck-home
mkdir -p "$ck_home"
chmod 0700 "$ck_home"
# ck_dev CMD: the copy's scripts/dev on free ports, run from inside the copy.
ck_dev() {
	(cd "$ck_root" && SB_BUILD=$SB_BUILD SWITCHBOARD_HTTP_PORT=$CK_HTTP SWITCHBOARD_PG_PORT=$CK_PG \
		SWITCHBOARD_MC_PORT=$CK_MC SWITCHBOARD_WORKER_METRICS_PORT=$CK_WM \
		SWITCHBOARD_STREAM_METRICS_PORT=$CK_SM scripts/dev "$1")
}

for ck_name in sb-checkout "sb checkout"; do
	ck_root="$ck_home/$ck_name"
	mkdir -p "$ck_root"
	# The tree without its state, builds and git data (what a fresh clone has, plus configure).
	tar -C "$SB_ROOT" --exclude=./var --exclude=./.git --exclude=node_modules -cf - . |
		tar -C "$ck_root" -xf -
	ck_free_ports=1
	for ck_p in CK_HTTP CK_PG CK_MC CK_WM CK_SM; do sb_free_port "$ck_p" || ck_free_ports=0; done

	if [ "$ck_free_ports" != 1 ]; then
		fail "checkout $ck_name: free ports" "sb_free_port found none"
	elif ! runuser -u postgres -- true 2>/dev/null; then
		fail "checkout $ck_name: run as root" "the services' users are only used when the suite runs as root"
	else
		ck_out=$(ck_dev up 2>&1)
		ck_rc=$?
		expect_eq "checkout $ck_name: scripts/dev up succeeds in a 0700 home" 0 "$ck_rc"
		[ "$ck_rc" = 0 ] || printf '%s\n' "$ck_out" | tail -n 15 | sed 's/^/#   /'
		ck_var=$(readlink -m "$ck_root/var")
		for ck_u in postgres www-data nobody; do
			check "checkout $ck_name: $ck_u may enter the state directory $ck_var" \
				runuser -u "$ck_u" -- test -x "$ck_var/stack"
		done
		check "checkout $ck_name: the state directory's path has no blank" sb_path_plain "$ck_var"
		http GET "http://127.0.0.1:$CK_HTTP/readyz"
		expect_eq "checkout $ck_name: the stack answers /readyz through Caddy" 200 "$H_STATUS"
		http GET "http://127.0.0.1:$CK_HTTP/"
		expect_match "checkout $ck_name: and serves the frontend" '<title>Switchboard</title>' "$H_BODY"
		ck_status=$(ck_dev status 2>&1)
		expect_match "checkout $ck_name: scripts/dev status names the state directory" \
			"^state: $ck_var\$" "$ck_status"
		expect_match "checkout $ck_name: and says PostgreSQL runs" '^postgresql: running' "$ck_status"
		# Without the port variables, status looks where `up` started things.
		ck_status=$(cd "$ck_root" && env -u SWITCHBOARD_HTTP_PORT -u SWITCHBOARD_PG_PORT scripts/dev status 2>&1)
		expect_match "checkout $ck_name: scripts/dev status without the port variables asks /readyz on the port up used" \
			"^readyz on :$CK_HTTP: .*\"status\": ?\"ready\".* \\(200\\)\$" "$ck_status"
		expect_match "checkout $ck_name: and names PostgreSQL's port" "^postgresql: running \\(port $CK_PG\\)\$" "$ck_status"

		ck_dev down >/dev/null 2>&1
		ck_status=$(ck_dev status 2>&1)
		expect_eq "checkout $ck_name: scripts/dev down stops everything" 0 \
			"$(printf '%s\n' "$ck_status" | grep -c ': running')"
		ck_reports=$(grep -lE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' \
			"$ck_var"/stack/*.log 2>/dev/null)
		expect_eq "checkout $ck_name: no sanitizer report in the stack's logs" "" "$ck_reports"
		# The state made outside the checkout is this copy's alone: its logs are kept with
		# the suite's ($STATE, kept when a test failed), the rest removed.
		mkdir -p "$ck_home/logs-${ck_name// /_}"
		cp "$ck_var"/stack/*.log "$ck_home/logs-${ck_name// /_}/" 2>/dev/null
		case $ck_var in
		/var/lib/switchboard-dev/*) rm -rf "$ck_var" ;;
		esac
	fi
done
unset -f ck_dev
