#!/usr/bin/env bash
# Installs from Debian's archive the packages one purpose of Tern's needs (run, format, test, fuzz,
# bench, deb): `install-deps.sh GROUP...`. Idempotent: when all are present it returns at once.
#
# Test and benchmark peers (Postfix, NSD...) are programs the tests start themselves on loopback
# ports; they must never run as system services. So every install runs with a temporary
# /usr/sbin/policy-rc.d that refuses service starts (an administrator's own one is kept as it is),
# and the systemd units and init scripts of the peer packages it installed are disabled and
# masked afterwards, even when the install fails.
set -euo pipefail

# ---- the package lists: the only place they are kept --------------------------------------------
declare -A GROUPS_=(
    # `make build` / `make run`: the compiler, the libraries (libidn2: IDNA domains for DMARC),
    # GoogleTest for the unit tests, and swaks, the SMTP client the README's quick start talks
    # to the running server with.
    [run]="g++ cmake ninja-build pkg-config make
        libboost1.81-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
        libunbound-dev libargon2-dev libsqlite3-dev libssl-dev nlohmann-json3-dev zlib1g-dev
        libidn2-dev libgtest-dev libgmock-dev
        swaks libnet-ssleay-perl libauthen-sasl-perl libdigest-hmac-perl"
    # `make format`
    [format]="clang-format"
    # `make test` (integration): pytest, and the real peers the tests start on loopback ports:
    # aiosmtpd and dnslib (Python), Postfix (a private instance and smtp-sink), NSD and ldns
    # (a DNSSEC-signed zone), testssl.sh, openssl; the clients and readers curl and s-nail;
    # python3-cryptography (certificate checks); for the power-cut test a FUSE disk recorder
    # (python3-llfuse) and its control (eatmydata); mkfs.ext4, losetup and mount come with
    # every Debian system (e2fsprogs, mount). Mail authentication: the independent
    # implementations Tern is checked against, dkimpy (python3-dkim, with python3-nacl for
    # Ed25519), pyspf (python3-spf), python3-authres (RFC 8601 parser), Mail::DKIM
    # (libmail-dkim-perl), and python3-yaml for the RFC 7208 suite. Milters: python3-milter
    # (pymilter, a scriptable libmilter filter) and rspamd (its proxy worker in milter mode).
    # The shared policy store: redis-server, started by the tests on a loopback port (unit tests
    # of the Redis store and test_policy_store.py), never as a system service.
    # SRS: Mail::SRS (libmail-srs-perl) and python3-srs, which make and reverse SRS addresses
    # against Tern's (tests/integration/test_srs.py).
    # Metrics: python3-prometheus-client's parser reads /metrics as Prometheus would
    # (tests/integration/test_metrics.py).
    # The Debian package (tests/integration/test_deb.py): dpkg-dev builds it, debootstrap makes
    # the fresh Debian root it is installed in.
    # LMTP delivery (tests/integration/test_lmtp.py): Dovecot's lmtp service, started by the test
    # with its own configuration on a Unix socket and a loopback port, never as a system service.
    # The dashboard in a real browser (tests/integration/test_dashboard.py): chromium, driven
    # headless by playwright-core, which `npm ci` puts in tests/browser after these packages (see
    # node_packages below); its text needs a font, which fontconfig's own dependencies bring.
    # Automatic certificates (tests/integration/test_acme.py): pebble, Let's Encrypt's ACME test
    # CA, started by the test on loopback with its own configuration (it is no service).
    [test]="python3-pytest python3-aiosmtpd python3-dnslib python3-cryptography
        postfix nsd ldnsutils testssl.sh openssl curl s-nail python3-llfuse eatmydata
        python3-dkim python3-nacl python3-spf python3-dnspython python3-authres
        libmail-dkim-perl python3-yaml python3-milter rspamd redis-server
        libmail-srs-perl python3-srs python3-prometheus-client dpkg-dev debootstrap
        dovecot-core dovecot-lmtpd chromium pebble"
    # `make fuzz`: clang with libFuzzer and the sanitizer runtime, and the LLVM symbolizer of the
    # same version, which turns a crash's addresses into function names and file:line.
    [fuzz]="clang-19 libclang-rt-19-dev llvm-19"
    # `make bench`: Postfix (the server compared with, and smtp-source/smtp-sink), python3,
    # python3-dnslib for the DNS server of the verification and policy runs, and rspamd, the
    # milter both servers are measured behind (bench/milter.py); Google Benchmark for the
    # micro-benchmarks of hot-path components (bench/micro/run.sh).
    [bench]="postfix python3 python3-dnslib rspamd libbenchmark-dev"
    # `make deb`: dpkg-shlibdeps, which writes the Depends line, and binutils' objcopy, which
    # strips the binary (dpkg-dev brings binutils; dpkg-deb is dpkg's).
    [deb]="dpkg-dev"
)
# Groups whose packages are peers: their services are never started, enabled or left running.
PEER_GROUPS=(test bench)
# Groups that also need the browser test's Node packages (node_packages below).
NODE_GROUPS=(test)
NODE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"

POLICY=/usr/sbin/policy-rc.d
POLICY_MARK="# written by Tern's scripts/install-deps.sh for the length of one install"
LOCK=/run/lock/tern-install-deps.lock

say() { printf 'install-deps: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

(($# > 0)) || die "usage: $0 GROUP... (groups: ${!GROUPS_[*]})"
wanted=()
peers=()
want_node=0
for group in "$@"; do
    [[ -v GROUPS_[$group] ]] || die "unknown group '$group' (groups: ${!GROUPS_[*]})"
    read -r -d '' -a list <<<"${GROUPS_[$group]}" || true
    wanted+=("${list[@]}")
    if [[ " ${PEER_GROUPS[*]} " == *" $group "* ]]; then peers+=("${list[@]}"); fi
    if [[ " ${NODE_GROUPS[*]} " == *" $group "* ]]; then want_node=1; fi
done
# The browser test runs playwright-core under Node.js. Machines of this project's kind come with
# Node.js 20 and its npm (not from Debian); only where there is no `node` at all do Debian's
# nodejs and npm come in (Debian 12's Node.js 18: tests/browser pins playwright-core 1.61.1, the
# last release that runs on Node.js 18).
if ((want_node)) && ! command -v node >/dev/null; then wanted+=(nodejs npm); fi
# Each package once (Postfix is in two groups).
mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | awk '!seen[$0]++')

# Prints the installed packages among "$@" (all installed packages without arguments).
installed() {
    { dpkg-query -W -f='${db:Status-Status} ${Package}\n' "$@" 2>/dev/null || true; } | awk '$1 == "installed" { print $2 }'
}

# Prints the packages of "$@" that are not installed (one dpkg-query for all: the fast path).
missing_of() {
    (($# > 0)) || return 0
    local have p
    have=" $(installed "$@" | tr '\n' ' ') "
    for p in "$@"; do [[ $have == *" $p "* ]] || printf '%s\n' "$p"; done
}

# The browser test's Node packages: `npm ci` in tests/browser (playwright-core, the version its
# package-lock.json pins), after the Debian packages and only where node and npm are. Again only
# when the lock file is newer than npm's record of the last install
# (node_modules/.package-lock.json), so a second run costs nothing. As the owner of the
# checkout, so that a run through sudo leaves no files of root's in it.
node_packages() {
    ((want_node)) && [[ -f $NODE_DIR/package-lock.json ]] || return 0
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "no node or npm: the browser test's packages ($NODE_DIR) are not installed"
        return 0
    fi
    [[ $NODE_DIR/node_modules/.package-lock.json -nt $NODE_DIR/package-lock.json ]] && return 0
    local owner
    owner=$(stat -c %U "$NODE_DIR")
    say "npm ci in $NODE_DIR"
    if ((EUID == 0)) && [[ $owner != root ]]; then
        (cd "$NODE_DIR" && runuser -u "$owner" -- npm ci --no-audit --no-fund)
    else
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
    fi
}

mapfile -t missing < <(missing_of "${wanted[@]}")
((${#missing[@]} == 0)) && { node_packages; exit 0; }

if ((EUID != 0)); then
    command -v sudo >/dev/null || die "missing ${missing[*]}; run as root or install sudo"
    exec sudo "$0" "$@"
fi

# One install at a time (make -j may start two groups' installs together).
mkdir -p "${LOCK%/*}"
exec 9>"$LOCK"
flock 9
mapfile -t missing < <(missing_of "${wanted[@]}")
((${#missing[@]} == 0)) && { node_packages; exit 0; }

# The peers this run installs, and the packages present before it (to tell what it added).
mapfile -t new_peers < <(missing_of "${peers[@]+"${peers[@]}"}" | awk '!seen[$0]++')
before=" $(installed | tr '\n' ' ') "

our_policy=0
systemd_running() { [[ -d /run/systemd/system ]]; }

# The systemd units and sysv init scripts a package ships.
units_of() { dpkg-query -L "$1" 2>/dev/null | grep -E '^(/usr)?/lib/systemd/system/[^/]+\.(service|socket|timer|path)$' | sed 's|.*/||' || true; }
initscripts_of() { dpkg-query -L "$1" 2>/dev/null | grep -E '^/etc/init\.d/[^/]+$' | sed 's|.*/||' || true; }

# Disables and masks every unit and init script of the peer packages this run installed, and,
# where an administrator's policy let them start, stops them.
quiet_peers() {
    local pkg unit script
    for pkg in "${new_peers[@]+"${new_peers[@]}"}"; do
        dpkg-query -W "$pkg" >/dev/null 2>&1 || continue
        for unit in $(units_of "$pkg"); do
            if ((!our_policy)) && systemd_running; then systemctl stop "$unit" >/dev/null 2>&1 || true; fi
            if command -v systemctl >/dev/null; then
                systemctl disable "$unit" >/dev/null 2>&1 || true
                systemctl mask "$unit" >/dev/null 2>&1 || true
            else
                # No systemd here: remove the enablement links and mask the unit the way
                # systemctl would, in case systemd is installed later.
                deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
                mkdir -p /etc/systemd/system
                ln -sfn /dev/null "/etc/systemd/system/$unit"
            fi
            say "$pkg: $unit disabled and masked (a test peer, never a system service)"
        done
        for script in $(initscripts_of "$pkg"); do
            if ((!our_policy)) && ! systemd_running; then "/etc/init.d/$script" stop >/dev/null 2>&1 || true; fi
            update-rc.d "$script" disable >/dev/null 2>&1 || true
            say "$pkg: /etc/init.d/$script disabled"
        done
    done
}

# A process still running from a file of a package this run installed (in this root) is a
# service that a postinst started anyway: said, and the install fails.
check_nothing_started() {
    local pkg pid exe files=" " myroot found=0
    myroot=$(stat -Lc '%d:%i' /)
    for pkg in $(installed); do
        [[ $before == *" $pkg "* ]] && continue
        files+="$(dpkg-query -L "$pkg" 2>/dev/null | tr '\n' ' ')"
    done
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [[ $(stat -Lc '%d:%i' "/proc/$pid/root" 2>/dev/null) == "$myroot" ]] || continue
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        if [[ $files == *" $exe "* || $files == *" ${exe#/usr} "* ]]; then
            say "pid $pid ($exe) was started by the install and is still running"
            found=1
        fi
    done
    return "$found"
}

finish() {
    local rc=$?
    set +e
    quiet_peers
    if ((our_policy)) && grep -qxF "$POLICY_MARK" "$POLICY" 2>/dev/null; then rm -f "$POLICY"; fi
    check_nothing_started || rc=1
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -e $POLICY ]]; then
    say "keeping the existing $POLICY (it decides which services may start during the install)"
else
    printf '#!/bin/sh\n%s\n# Refuses every service start or restart (exit 101).\nexit 101\n' "$POLICY_MARK" >"$POLICY"
    chmod 755 "$POLICY"
    our_policy=1
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Postfix is only a peer: installed unconfigured, so it has no system instance to start.
if [[ " ${missing[*]} " == *" postfix "* ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get update -q
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
node_packages
