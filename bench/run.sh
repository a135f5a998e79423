#!/usr/bin/env bash
# bench/run.sh (`make bench`): Tern vs a private, throw-away Postfix instance on this machine,
# same smtp-source workload, alternating servers, and the same load against smtp-sink (nothing
# stored: the ceiling); then a DATA-end -> 250 latency probe against each (bench/latency.py).
# Prints msg/s, Tern/Postfix and Tern/ceiling, the latencies and a Markdown snippet.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [5000]  messages per timed run      BENCH_SESSIONS [20]  concurrent sessions
#   BENCH_SIZE     [2048]  payload octets (-l)         BENCH_WARMUP   [300] untimed messages first
#   BENCH_ROUNDS   [3]     timed rounds (median kept)  BENCH_TIMEOUT  [300] seconds per wait
#   BENCH_MODES    ["conn reuse"]                      BENCH_KEEP     [0]   1 keeps the temp dir
#   TERN_BIN [build/tern]  SMTP_SOURCE [/usr/sbin/smtp-source]  TMPDIR [/tmp]
#   BENCH_PROBES   [500]   latency probe messages per server and condition (0: no probe)
#   BENCH_PROBE_SESSIONS [8]  saturating smtp-source sessions while the probe runs
#   SMTP_SINK [/usr/sbin/smtp-sink]  the sink of the ceiling runs
#   BENCH_MAILAUTH [off]   off: Tern verifies and signs nothing (Postfix here does neither);
#                          verify: the MX verifies every message (SPF, DKIM, ARC, DMARC; the
#                          client is not trusted; the sender's domain has SPF and DMARC records
#                          on a DNS server on loopback, so answers are cached as in production)
# Needs root (Postfix's master starts as root), the postfix package, and python3 (make deps-bench).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

MESSAGES=${BENCH_MESSAGES:-5000}
SESSIONS=${BENCH_SESSIONS:-20}
SIZE=${BENCH_SIZE:-2048}
WARMUP=${BENCH_WARMUP:-300}
ROUNDS=${BENCH_ROUNDS:-3}
TIMEOUT=${BENCH_TIMEOUT:-300}
MODES=${BENCH_MODES:-conn reuse}
MAILAUTH=${BENCH_MAILAUTH:-off}
KEEP=${BENCH_KEEP:-0}
PROBES=${BENCH_PROBES:-500}
PROBE_SESSIONS=${BENCH_PROBE_SESSIONS:-8}
TERN_BIN=${TERN_BIN:-$ROOT/build/tern}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
POSTFIX=/usr/sbin/postfix
PYTHON=/usr/bin/python3

DOMAIN=bench.test
# Each timed or warm-up run delivers to a mailbox of its own (bench1, bench2, ...), so no run
# starts by deleting the previous run's files: on ext4 a burst of deletions makes the next file
# creations scan past recently freed inodes, which would slow whichever server comes next.
MAILBOXES=$(( (ROUNDS + 1) * 2 * 2 ))
USER_LIST=
for ((i = 1; i <= MAILBOXES; i++)); do USER_LIST+="${USER_LIST:+, }\"bench$i\""; done
# The latency probe and its load deliver to a mailbox of their own.
PROBE_USER=benchprobe
USER_LIST+=", \"$PROBE_USER\""
RUN_NUMBER=0
SENDER=sender@$DOMAIN

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: FAILED: %s\n' "$*" >&2; exit 1; }

# ---- preflight ---------------------------------------------------------------------------------
for v in MESSAGES SESSIONS SIZE WARMUP ROUNDS TIMEOUT PROBES PROBE_SESSIONS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a whole number, not '${!v}'"
done
((MESSAGES > 0 && SESSIONS > 0 && ROUNDS > 0 && TIMEOUT > 0 && PROBE_SESSIONS > 0)) ||
    die "counts must be positive"
for m in $MODES; do [[ $m == conn || $m == reuse ]] || die "unknown mode '$m' (conn, reuse)"; done
[[ $MAILAUTH == off || $MAILAUTH == verify ]] || die "BENCH_MAILAUTH must be off or verify"
if [[ $MAILAUTH == verify ]]; then VERIFY_ON='["mx"]' TRUSTED='[]'; else VERIFY_ON='[]' TRUSTED='["127.0.0.0/8"]'; fi
# With verification the sender's domain is one with records to find (unbound answers every .test
# name itself); Postfix here looks nothing up, so this changes nothing for it.
SENDER_DOMAIN=bench-sender.example.net
[[ $MAILAUTH == verify ]] && SENDER=sender@$SENDER_DOMAIN
((EUID == 0)) || die "run as root: Postfix's master must start as root"
[[ -x $TERN_BIN ]] || die "no Tern binary at $TERN_BIN (make build)"
[[ -x $SMTP_SOURCE ]] || die "no smtp-source at $SMTP_SOURCE (make deps-bench installs postfix)"
[[ -x $SMTP_SINK ]] || die "no smtp-sink at $SMTP_SINK (make deps-bench installs postfix)"
[[ -x $POSTFIX ]] || die "no $POSTFIX (make deps-bench installs postfix)"
[[ -x $PYTHON ]] || die "no $PYTHON"
getent passwd postfix >/dev/null || die "no 'postfix' user (the postfix package creates it)"
getent group postdrop >/dev/null || die "no 'postdrop' group (the postfix package creates it)"
VUID=$(id -u nobody) || die "no 'nobody' user (owner of the Postfix test mailbox)"
VGID=$(id -g nobody)

# ---- temp dir and clean-up ---------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tern-bench.XXXXXX")
chmod 755 "$WORK" # the Postfix virtual agent runs as nobody and must reach its mailbox
PF=$WORK/postfix
TN=$WORK/tern
mkdir -p "$TN"
# A private copy, so a rebuild during the run cannot swap the binary between rounds.
TERN_BUILT=$(date -u -r "$TERN_BIN" '+%Y-%m-%d %H:%M UTC')
cp "$TERN_BIN" "$TN/tern"
TERN=$TN/tern
TERN_PID=
DNS_PID=
PF_STARTED=0
PF_MASTER_PID=
CHILD_PID=

pid_alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

# Wait up to $2 tenths of a second for pid $1 to go away.
wait_gone() {
    local i
    for ((i = 0; i < $2; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
    ! pid_alive "$1"
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if pid_alive "$CHILD_PID"; then
        kill -TERM "$CHILD_PID" 2>/dev/null
        wait_gone "$CHILD_PID" 50 || kill -KILL "$CHILD_PID" 2>/dev/null
    fi
    if ((PF_STARTED)); then
        timeout 20 "$POSTFIX" -c "$PF/etc" stop </dev/null >/dev/null 2>&1
        # If stop failed, end this instance's master (checked to still be a Postfix master) and
        # the process group it leads (master calls setsid, so the group is this instance only).
        if pid_alive "$PF_MASTER_PID" && [[ $(cat "/proc/$PF_MASTER_PID/comm" 2>/dev/null) == master ]]; then
            kill -TERM "$PF_MASTER_PID" 2>/dev/null
            wait_gone "$PF_MASTER_PID" 50 || kill -KILL -- "-$PF_MASTER_PID" 2>/dev/null
        fi
    fi
    if pid_alive "$DNS_PID"; then
        kill -TERM "$DNS_PID" 2>/dev/null
        wait_gone "$DNS_PID" 50 || kill -KILL "$DNS_PID" 2>/dev/null
    fi
    if pid_alive "$TERN_PID"; then
        kill -TERM "$TERN_PID" 2>/dev/null
        wait_gone "$TERN_PID" 100 || kill -KILL "$TERN_PID" 2>/dev/null
        wait "$TERN_PID" 2>/dev/null
    fi
    if ((rc != 0 && rc != 130 && rc != 143)) && [[ -d $WORK ]]; then
        log "last Tern log lines:"; tail -n 5 "$TN/tern.log" >&2 2>/dev/null
        log "last Postfix log lines:"; tail -n 5 "$PF/maillog" >&2 2>/dev/null
    fi
    if [[ $KEEP == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run a command in the background and wait for it, so that a signal's trap runs at once and the
# clean-up can stop the command by its pid.
run_child() {
    "$@" &
    CHILD_PID=$!
    local rc=0
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=
    return "$rc"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until something accepts TCP connections on 127.0.0.1:$1 and greets with 220.
wait_listening() {
    "$PYTHON" - "$1" "$TIMEOUT" <<'EOF'
import signal, socket, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
port, deadline = int(sys.argv[1]), time.monotonic() + min(float(sys.argv[2]), 30)
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(5)
            if s.recv(512).startswith(b"220"):
                s.sendall(b"QUIT\r\n")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

TERN_PORT=$(free_port)
PF_PORT=$(free_port)
while [[ $PF_PORT == "$TERN_PORT" ]]; do PF_PORT=$(free_port); done

# ---- DNS (verify only): the sender domain's SPF and DMARC records, on loopback ----------------
DNS_UPSTREAM='[]'
if [[ $MAILAUTH == verify ]]; then
    DNS_PORT=$(free_port)
    cat >"$WORK/bench.zone" <<EOF
\$ORIGIN $SENDER_DOMAIN.
\$TTL 3600
@ IN SOA ns.$SENDER_DOMAIN. hostmaster.$SENDER_DOMAIN. 1 3600 600 86400 3600
@ IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
EOF
    "$PYTHON" "$ROOT/tests/integration/peers/dns_server.py" --port "$DNS_PORT" \
        --zone "$WORK/bench.zone" >"$WORK/dns.log" 2>&1 &
    DNS_PID=$!
    for _ in $(seq 50); do grep -q ready "$WORK/dns.log" && break; sleep 0.1; done
    grep -q ready "$WORK/dns.log" || die "the bench DNS server did not start: $(cat "$WORK/dns.log")"
    DNS_UPSTREAM="[\"127.0.0.1@$DNS_PORT\"]"
fi

# ---- Tern --------------------------------------------------------------------------------------
cat >"$TN/tern.toml" <<EOF
# Tern configuration for bench/run.sh; everything not set here is at its default.
[server]
hostname = "tern.$DOMAIN"
data_dir = "$TN/data"
shutdown_grace = "2s"

[log]
file = "$TN/tern.log"

[smtp]
listen = ["127.0.0.1:$TERN_PORT"]

[limits]
connections_per_client = 100000

[local]
domains = ["$DOMAIN"]
users = [$USER_LIST]

# Mail authentication as BENCH_MAILAUTH says; never signing (smtp-source's mail is not ours).
[mailauth]
verify = $VERIFY_ON
[relay]
trusted_networks = $TRUSTED
[dkim]
sign = false
[dns]
upstream = $DNS_UPSTREAM
EOF

start_tern() {
    "$TERN" check-config "$TN/tern.toml" >/dev/null || die "tern check-config failed"
    # In a session of its own, so that Ctrl-C reaches this script, which then stops Tern itself.
    setsid "$TERN" serve --config "$TN/tern.toml" </dev/null >"$TN/tern.out" 2>&1 &
    TERN_PID=$!
    wait_listening "$TERN_PORT" || { cat "$TN/tern.out" >&2; die "Tern did not start on port $TERN_PORT"; }
}

tern_alive() { pid_alive "$TERN_PID"; }

tern_queue_size() {
    "$TERN" queue --config "$TN/tern.toml" --json list 2>/dev/null | "$PYTHON" -c '
import json, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
try:
    print(len(json.load(sys.stdin)["messages"]))
except (ValueError, KeyError, TypeError):
    print("?")'
}

# ---- Postfix -----------------------------------------------------------------------------------
mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$PF/mail"
chown postfix "$PF/data"
chown "$VUID:$VGID" "$PF/mail"
cat >"$PF/etc/main.cf" <<EOF
# Private Postfix instance for bench/run.sh (config_directory $PF/etc); removed after the run.
# Defaults are kept (fsync included) except for what a private loopback instance needs.
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.$DOMAIN
mydomain = $DOMAIN
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = texthash:$PF/etc/vmailbox
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
default_process_limit = 100
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
EOF
# The trailing slash makes the virtual agent deliver in Maildir format.
for ((i = 1; i <= MAILBOXES; i++)); do echo "bench$i@$DOMAIN bench$i/Maildir/"; done >"$PF/etc/vmailbox"
echo "$PROBE_USER@$DOMAIN $PROBE_USER/Maildir/" >>"$PF/etc/vmailbox"
cat >"$PF/etc/master.cf" <<EOF
# Private Postfix instance for bench/run.sh: one loopback smtpd, no chroot, no other listener.
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n -  0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n -  - trivial-rewrite
bounce     unix  - - n -  0 bounce
defer      unix  - - n -  0 bounce
trace      unix  - - n -  0 bounce
verify     unix  - - n -  1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -  - proxymap
proxywrite unix  - - n -  1 proxymap
smtp       unix  - - n -  - smtp
relay      unix  - - n -  - smtp
showq      unix  n - n -  - showq
error      unix  - - n -  - error
retry      unix  - - n -  - error
discard    unix  - - n -  - discard
local      unix  - n n -  - local
virtual    unix  - n n -  - virtual
anvil      unix  - - n -  1 anvil
scache     unix  - - n -  1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF

# The postfix command reports errors only to a terminal or to its log; show the log on failure.
start_postfix() {
    "$POSTFIX" -c "$PF/etc" check </dev/null >/dev/null 2>&1 ||
        { tail -n 20 "$PF/maillog" >&2 2>/dev/null; die "postfix -c $PF/etc check failed"; }
    PF_STARTED=1
    timeout 60 "$POSTFIX" -c "$PF/etc" start </dev/null >/dev/null 2>&1 ||
        { tail -n 20 "$PF/maillog" >&2 2>/dev/null; die "postfix -c $PF/etc start failed"; }
    PF_MASTER_PID=$(sed -n '1s/[^0-9]//gp' "$PF/queue/pid/master.pid" 2>/dev/null || true)
    [[ -n $PF_MASTER_PID ]] || die "no master pid in $PF/queue/pid/master.pid"
    wait_listening "$PF_PORT" || { tail -n 20 "$PF/maillog" >&2; die "Postfix did not listen on $PF_PORT"; }
}

postfix_alive() { pid_alive "$PF_MASTER_PID"; }

postfix_queue_size() {
    find "$PF/queue/maildrop" "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" \
        "$PF/queue/hold" -type f 2>/dev/null | wc -l
}

# ---- measuring ---------------------------------------------------------------------------------
RESULTS=$WORK/results.tsv
: >"$RESULTS"

# Wait until server $1's queue is empty, so the next run starts from the same idle state.
wait_queue_empty() {
    local fn=${1}_queue_size n i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        ${1}_alive || die "$1 is no longer running"
        n=$($fn) || n=?
        [[ $n == 0 ]] && return 0
        sleep 0.1
    done
    die "$1 still has $n messages queued after ${TIMEOUT}s"
}

# measure SERVER MODE MESSAGES [ROUND]: one run; with ROUND, appends the timings to RESULTS.
# SERVER "ceiling" is the same load against a fresh smtp-sink (measure.py --ceiling), which stores
# nothing: accept and deliver times are both smtp-source's wall time.
measure() {
    local server=$1 mode=$2 n=$3 round=${4:-} port new out args user=sink
    if [[ $server == ceiling ]]; then
        args=(--ceiling --smtp-sink "$SMTP_SINK" --work-dir "$WORK")
    else
        RUN_NUMBER=$((RUN_NUMBER + 1))
        user=bench$RUN_NUMBER
        if [[ $server == tern ]]; then
            port=$TERN_PORT new=$TN/data/mail/$user/Maildir/new
        else
            port=$PF_PORT new=$PF/mail/$user/Maildir/new
        fi
        wait_queue_empty "$server"
        args=(--server "127.0.0.1:$port" --maildir-new "$new")
    fi
    sync
    args+=(--smtp-source "$SMTP_SOURCE" --messages "$n" --sessions "$SESSIONS" --size "$SIZE"
        --sender "$SENDER" --recipient "$user@$DOMAIN" --timeout "$TIMEOUT")
    [[ $mode == reuse ]] && args+=(--reuse)
    run_child "$PYTHON" "$HERE/measure.py" "${args[@]}" >"$WORK/measure.out" ||
        die "$server, mode $mode: run of $n messages failed (see above)"
    out=$(cat "$WORK/measure.out")
    read -r acc dlv <<<"$out"
    if [[ -n $round ]]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$mode" "$round" "$n" "$acc" "$dlv" >>"$RESULTS"
        if [[ $server == ceiling ]]; then
            log "$(printf '%-7s %-5s round %s: %d msgs accepted in %.2fs (smtp-sink, nothing stored)' \
                "$server" "$mode" "$round" "$n" "$acc")"
        else
            log "$(printf '%-7s %-5s round %s: %d msgs accepted in %.2fs, delivered in %.2fs' \
                "$server" "$mode" "$round" "$n" "$acc" "$dlv")"
        fi
    fi
    [[ $server == ceiling ]] || wait_queue_empty "$server"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the run: $LOAD_BEFORE"
log "work dir $WORK; Tern on 127.0.0.1:$TERN_PORT, Postfix on 127.0.0.1:$PF_PORT"
start_tern
start_postfix
log "both servers up; $MESSAGES messages x $SESSIONS sessions x $SIZE bytes, modes: $MODES, rounds: $ROUNDS"

if ((WARMUP > 0)); then
    for server in tern postfix ceiling; do
        for mode in $MODES; do measure "$server" "$mode" "$WARMUP"; done
    done
    log "warm-up done ($WARMUP messages per server and mode)"
fi

for ((r = 1; r <= ROUNDS; r++)); do
    # Rotate the order in each round (tern postfix ceiling, postfix ceiling tern, ceiling tern
    # postfix, ...), so that none always runs first, on a warmer disk or after a given other.
    case $((r % 3)) in
    1) order="tern postfix ceiling" ;;
    2) order="postfix ceiling tern" ;;
    0) order="ceiling tern postfix" ;;
    esac
    for mode in $MODES; do
        for server in $order; do measure "$server" "$mode" "$MESSAGES" "$r"; done
    done
done

# ---- latency probe -----------------------------------------------------------------------------
# For each of Tern, Postfix and a fresh smtp-sink (the ceiling): DATA-end -> 250 on a probe
# connection of its own, idle, then while PROBE_SESSIONS smtp-source sessions saturate the server
# (see bench/latency.py). The load's messages are delivered like any others; the queue must drain
# before the next server is probed.
LATENCY=$WORK/latency.tsv
: >"$LATENCY"
latency() {
    local server=$1 args
    case $server in
    tern) args=(--server "127.0.0.1:$TERN_PORT") ;;
    postfix) args=(--server "127.0.0.1:$PF_PORT") ;;
    ceiling) args=(--smtp-sink "$SMTP_SINK") ;;
    esac
    [[ $server == ceiling ]] || wait_queue_empty "$server"
    sync
    run_child "$PYTHON" "$HERE/latency.py" "${args[@]}" --label "$server" --probes "$PROBES" \
        --load-sessions "$PROBE_SESSIONS" --sender "$SENDER" --recipient "$PROBE_USER@$DOMAIN" \
        --smtp-source "$SMTP_SOURCE" --max-seconds "$TIMEOUT" --work-dir "$WORK" --tsv "$LATENCY" ||
        die "$server: the latency probe failed (see above)"
    [[ $server == ceiling ]] || wait_queue_empty "$server"
}
if ((PROBES > 0)); then
    log "latency probe: $PROBES messages per server, idle and with $PROBE_SESSIONS saturating sessions"
    for server in tern postfix ceiling; do latency "$server"; done
fi

# ---- report ------------------------------------------------------------------------------------
# Anything either server complained about during the run is worth a look before trusting figures.
report_log_problems() {
    local name=$1 file=$2 pattern=$3 n
    n=$(grep -cE "$pattern" "$file" 2>/dev/null) || n=0
    if ((n > 0)); then
        log "$name logged $n warning/error lines during the run; the first ones:"
        grep -E "$pattern" "$file" | head -n 5 >&2
    else
        log "$name logged no warnings or errors"
    fi
}
report_log_problems Tern "$TN/tern.log" '^[^ ]+ (warn|error) '
report_log_problems Postfix "$PF/maillog" 'postfix/[a-z-]+\[[0-9]+\]: (warning|error|fatal|panic):'

FACTS=$WORK/facts.tsv
cmd=
for v in BENCH_MESSAGES BENCH_SESSIONS BENCH_SIZE BENCH_WARMUP BENCH_ROUNDS BENCH_MODES BENCH_PROBES \
    BENCH_PROBE_SESSIONS; do
    if [[ -n ${!v:-} ]]; then
        if [[ ${!v} == *" "* ]]; then cmd+="$v='${!v}' "; else cmd+="$v=${!v} "; fi
    fi
done
cmd+="make bench"
{
    printf 'command\t%s\n' "${BENCH_COMMAND:-$cmd}"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'nproc\t%s\n' "$(nproc)"
    printf 'cpu\t%s\n' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
    printf 'kernel\t%s\n' "$(uname -r)"
    printf 'load\t%s\n' "$LOAD_BEFORE"
    printf 'fs\t%s\n' "$(df -PT "$WORK" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
    # The binary may be older than the tree, so both are recorded.
    printf 'tern_version\t%s (tree), binary built %s\n' \
        "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)" \
        "$TERN_BUILT"
    printf 'postfix_version\t%s\n' "$(postconf -c "$PF/etc" -h mail_version 2>/dev/null || echo unknown)"
    printf 'sessions\t%s\nsize\t%s\nmessages\t%s\nwarmup\t%s\n' "$SESSIONS" "$SIZE" "$MESSAGES" "$WARMUP"
    printf 'probes\t%s\nprobe_sessions\t%s\nmailauth\t%s\n' "$PROBES" "$PROBE_SESSIONS" "$MAILAUTH"
} >"$FACTS"
"$PYTHON" "$HERE/report.py" "$RESULTS" "$FACTS" --latency "$LATENCY"
