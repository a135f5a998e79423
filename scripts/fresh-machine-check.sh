#!/usr/bin/env bash
# Proves the README's set-up on a new machine: a minimal Debian 12 root (debootstrap, with only git,
# make and ca-certificates), this repository's HEAD cloned into it, and the README's commands run.
#
# Usage (as root): scripts/fresh-machine-check.sh [STEP...]     steps: run test bench fuzz (all), deps
#   deps   only `scripts/install-deps.sh run format test fuzz bench` (minutes, not an hour: the
#          quick check after a change to the package lists; not in the default steps)
#   run    `make run` must install, build and start the server: it must answer on 127.0.0.1:2525,
#          take the quick start's swaks message into var/mail/postmaster, and stop with exit 0
#   test   `make test` must pass
#   bench  `make bench` with few messages (BENCH_MESSAGES=200 BENCH_ROUNDS=1 BENCH_WARMUP=0)
#   fuzz   `make fuzz FUZZ_SECONDS=10`, and no "invalid path to external symbolizer"
# After each step no service may be running or enabled in the root, and no policy-rc.d be left.
# Takes about 90 minutes on 2 cores (the whole build from scratch twice, then the whole suite).
# Environment: FRESH_KEEP=1 keeps the root (unmounted) for a look; FRESH_DIR is where the root is
# made ([/var/tmp], never inside the repository); FRESH_MIRROR overrides the Debian mirror.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STEPS=("$@")
((${#STEPS[@]})) || STEPS=(run test bench fuzz)
SUITE=bookworm
PORT=2525

say() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

for s in "${STEPS[@]}"; do [[ $s =~ ^(run|test|bench|fuzz|deps)$ ]] || die "unknown step '$s'"; done
((EUID == 0)) || die "run as root (debootstrap, chroot and mounts need it)"
if [[ ${FRESH_NAMESPACE:-} != 1 ]]; then
    # In a mount namespace of its own: the mounts made for the root vanish with its last process,
    # even when this script is killed before its clean-up can unmount them.
    FRESH_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi

# The mirror and security archive this machine's apt uses (one-line or deb822 sources).
apt_uri() {
    local want=$1
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -oE 'https?://[^ ]+' | grep -E "$want" | head -n 1 || true
}
MIRROR=${FRESH_MIRROR:-$(apt_uri '/debian/?$')}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(apt_uri '/debian-security/?$')
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    apt-get install -y -q debootstrap >/dev/null || die "apt-get install debootstrap"
}

# The repository's HEAD, as a fresh clone would get it (uncommitted changes are not checked).
COMMIT=$(git -C "$REPO" rev-parse HEAD)
[[ -z $(git -C "$REPO" status --porcelain --untracked-files=no) ]] ||
    say "note: uncommitted changes in $REPO are not part of the check (HEAD ${COMMIT:0:7} is)"

# Everything under one directory outside the repository: the root, the logs, the result.
BASE=$(mktemp -d "${FRESH_DIR:-/var/tmp}/tern-fresh.XXXXXX")
case $BASE/ in "$REPO"/*) rmdir "$BASE"; die "FRESH_DIR must be outside the repository";; esac
ROOT=$BASE/root
LOGS=$BASE/logs
mkdir -p "$ROOT" "$LOGS"
# HEAD now, so that a commit made during the run does not change what is checked.
git -C "$REPO" bundle create "$BASE/tern.bundle" HEAD >/dev/null 2>&1 || die "git bundle"
[[ $(git -C "$REPO" bundle list-heads "$BASE/tern.bundle" | cut -d" " -f1) == "$COMMIT" ]] || die "HEAD moved while bundling"

# Mounts under $ROOT, deepest first, read from the kernel (not only those this script made).
mounts_under() { awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r; }

# Processes whose root directory is $ROOT: everything started inside the chroot.
chroot_pids() {
    local pid
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$ROOT" ]] && echo "$pid"
    done
    return 0
}

# run_child LOG COMMAND...: runs a long command in the background, output to LOG, and waits for
# it, so that a signal's trap runs at once (bash defers traps while a foreground command runs).
# With job control on, the command leads a process group of its own, which the clean-up stops
# whole (debootstrap's downloads included) by its id.
set -m
CHILD=
run_child() {
    local log=$1 rc=0
    shift
    "$@" >"$log" 2>&1 &
    CHILD=$!
    wait "$CHILD" || rc=$?
    CHILD=
    return "$rc"
}

cleanup() {
    local rc=$? pid m
    trap - EXIT INT TERM
    set +e
    if [[ -n $CHILD ]]; then
        kill -TERM -- "-$CHILD" 2>/dev/null
        sleep 2
        kill -KILL -- "-$CHILD" 2>/dev/null
        wait "$CHILD" 2>/dev/null
    fi
    for pid in $(chroot_pids); do kill -TERM "$pid" 2>/dev/null; done
    sleep 1
    for pid in $(chroot_pids); do kill -KILL "$pid" 2>/dev/null; done
    for m in $(mounts_under); do umount "$m" 2>/dev/null || umount -l "$m"; done
    if [[ -n $(mounts_under) ]]; then
        say "still mounted under $ROOT, not removing it:"; mounts_under >&2
    elif [[ ${FRESH_KEEP:-0} == 1 ]]; then
        say "kept $BASE (logs in $LOGS)"
    else
        # --one-file-system: never descends into anything still mounted there.
        cp -r "$LOGS" "$BASE.logs" 2>/dev/null && say "logs kept in $BASE.logs"
        rm -rf --one-file-system "$BASE"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---- the root ----------------------------------------------------------------------------------
t0=$(date +%s)
say "debootstrap $SUITE (minbase + git, make, ca-certificates) from $MIRROR into $ROOT"
run_child "$LOGS/debootstrap.log" \
    debootstrap --variant=minbase --include=git,make,ca-certificates "$SUITE" "$ROOT" "$MIRROR" || { tail -n 20 "$LOGS/debootstrap.log" >&2; die "debootstrap"; }
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# A machine of this kind reaches the npm registry through a proxy whose CA it trusts (named by
# NODE_EXTRA_CA_CERTS); the root gets that CA too, as a new machine of the kind has it. This is
# the network's set-up, not the project's.
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -r $NODE_EXTRA_CA_CERTS ]]; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp "$NODE_EXTRA_CA_CERTS" "$ROOT/usr/local/share/ca-certificates/machine-extra-ca.crt"
    chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates in the root"
fi
[[ -s $ROOT/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
say "root ready in $(elapsed "$t0"): $(chroot "$ROOT" dpkg-query -W | wc -l) packages"

mount_in() { # TYPE SOURCE TARGET [OPTIONS]
    mkdir -p "$ROOT$3"
    if [[ $1 == bind ]]; then mount --bind "$2" "$ROOT$3"; else mount -t "$1" ${4:+-o "$4"} "$2" "$ROOT$3"; fi
}
mount_in proc proc /proc
mount_in sysfs sys /sys
mount_in bind /dev /dev
mount_in bind /dev/pts /dev/pts
mount_in tmpfs shm /dev/shm mode=1777
mount_in tmpfs run /run mode=755
mkdir -p "$ROOT/run/lock" && chmod 1777 "$ROOT/run/lock"


# Runs a shell command as root inside the root, in a login-like clean environment.
inside() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "$1"
}
cp "$BASE/tern.bundle" "$ROOT/root/tern.bundle"
inside "git -c advice.detachedHead=false clone -q /root/tern.bundle /root/tern &&
    git -C /root/tern checkout -q -B main" ||
    die "git clone"
say "cloned ${COMMIT:0:7} into /root/tern"

# Enabled systemd units and sysv start links in the root, and a policy-rc.d if there is one.
enabled_in_root() {
    inside 'ls -d /etc/systemd/system/*.wants/* /etc/systemd/system/*/*.wants/* /etc/rc[2-5].d/S* \
        /usr/sbin/policy-rc.d 2>/dev/null; true' | sort
}
ENABLED_AT_START=$(enabled_in_root)

# Nothing may run from the root between steps, no peer unit be enabled, no policy-rc.d be left.
check_quiet() {
    local pids added
    pids=$(chroot_pids)
    [[ -z $pids ]] || { ps -o pid,args -p "$(echo $pids | tr ' ' ,)" >&2; die "$1: processes left running in the root"; }
    added=$(comm -13 <(echo "$ENABLED_AT_START") <(enabled_in_root))
    if [[ -n $added ]]; then
        say "$1: enabled in the root since debootstrap:"; echo "$added" >&2
        ! grep -qE 'postfix|nsd|policy-rc' <<<"$added" || die "$1: a peer is enabled as a service, or policy-rc.d was left"
    fi
    say "$1: nothing left running, no peer enabled, no policy-rc.d left"
}

# Answers 220 on 127.0.0.1:$PORT and 221 to QUIT.
smtp_answers() {
    timeout 20 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
        IFS= read -r -t 10 line <&3 && [[ $line == 220* ]] || exit 1
        printf "QUIT\r\n" >&3
        IFS= read -r -t 10 line <&3 && [[ $line == 221* ]]' "$PORT" 2>/dev/null
}

# The tern process under `make run` (a child or grandchild of make).
tern_pid_under() {
    local pid=$1 child
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        [[ $(cat "/proc/$child/comm" 2>/dev/null) == tern ]] && { echo "$child"; return 0; }
        tern_pid_under "$child" && return 0
    done
    return 1
}

step_run() {
    ! smtp_answers || die "something on this machine already answers on 127.0.0.1:$PORT"
    local t=$(date +%s) make_pid tern_pid i
    inside 'cd /root/tern && exec make run' >"$LOGS/run.log" 2>&1 &
    make_pid=$!
    CHILD=$make_pid
    for ((i = 0; i < 3600; i++)); do
        smtp_answers && break
        kill -0 "$make_pid" 2>/dev/null || { tail -n 30 "$LOGS/run.log" >&2; die "make run ended before the server answered"; }
        sleep 1
    done
    smtp_answers || die "no answer on 127.0.0.1:$PORT after an hour"
    say "run: the server answers on 127.0.0.1:$PORT after $(elapsed "$t") (install + build)"
    inside 'cd /root/tern && swaks --server 127.0.0.1:2525 --to postmaster@localhost' >"$LOGS/swaks.log" 2>&1 ||
        { cat "$LOGS/swaks.log" >&2; die "the quick start's swaks command failed"; }
    for ((i = 0; i < 50; i++)); do
        [[ -n $(ls "$ROOT/root/tern/var/mail/postmaster/Maildir/new/" 2>/dev/null) ]] && break
        sleep 0.2
    done
    grep -q '^Received: ' "$ROOT"/root/tern/var/mail/postmaster/Maildir/new/* ||
        die "the quick start's message is not in var/mail/postmaster/Maildir/new"
    say "run: swaks's message delivered to var/mail/postmaster/Maildir/new"
    tern_pid=$(tern_pid_under "$make_pid") || die "no tern process under make run"
    kill -TERM "$tern_pid"
    wait "$make_pid" || die "make run exited $? after SIGTERM to tern (want 0)"
    CHILD=
    say "run: stopped by SIGTERM, make run exited 0"
}

step_test() {
    local t=$(date +%s)
    run_child "$LOGS/test.log" inside 'cd /root/tern && make test' ||
        { tail -n 60 "$LOGS/test.log" >&2; die "make test (log: $LOGS/test.log)"; }
    say "test: make test passed in $(elapsed "$t")"
    grep -E 'tests passed|[0-9]+ passed' "$LOGS/test.log" | sed 's/^/fresh-check: test:   /' >&2
}

step_bench() {
    local t=$(date +%s)
    run_child "$LOGS/bench.log" \
        inside 'cd /root/tern && BENCH_MESSAGES=200 BENCH_ROUNDS=1 BENCH_WARMUP=0 make bench' || { tail -n 40 "$LOGS/bench.log" >&2; die "make bench"; }
    say "bench: make bench (200 messages, 1 round) passed in $(elapsed "$t")"
}

step_deps() {
    local t=$(date +%s)
    run_child "$LOGS/deps.log" inside 'cd /root/tern && scripts/install-deps.sh run format test fuzz bench' ||
        { tail -n 40 "$LOGS/deps.log" >&2; die "install-deps.sh (log: $LOGS/deps.log)"; }
    say "deps: every group installed in $(elapsed "$t")"
}

step_fuzz() {
    local t=$(date +%s)
    run_child "$LOGS/fuzz.log" inside 'cd /root/tern && make fuzz FUZZ_SECONDS=10' ||
        { tail -n 40 "$LOGS/fuzz.log" >&2; die "make fuzz"; }
    ! grep -q 'invalid path to external symbolizer' "$LOGS/fuzz.log" || die "fuzz: no symbolizer"
    say "fuzz: make fuzz FUZZ_SECONDS=10 passed in $(elapsed "$t")"
}

for s in "${STEPS[@]}"; do
    "step_$s"
    check_quiet "$s"
done
say "PASSED: ${STEPS[*]} on a fresh $SUITE root from ${COMMIT:0:7} in $(elapsed "$t0")"
