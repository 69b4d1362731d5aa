# shellcheck shell=bash
# Shared helpers for the boxoffice scripts. Source it; it defines functions only
# (plus BOXOFFICE_ROOT, the repository or installed tree the calling script lives in).

BOXOFFICE_ROOT=${BOXOFFICE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

bo_log()  { printf '%s %s\n' "[$(date -u +%H:%M:%S)]" "$*" >&2; }
bo_warn() { printf '%s WARNING: %s\n' "[$(date -u +%H:%M:%S)]" "$*" >&2; }
bo_die()  { printf '%s ERROR: %s\n' "[$(date -u +%H:%M:%S)]" "$*" >&2; exit 1; }

# bo_sudo CMD...: run as root (directly when we are root, through sudo otherwise).
bo_sudo() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        bo_die "need root for: $* (and sudo is not installed)"
    fi
}

# bo_render SRC DST NAME=VALUE...: copy SRC to DST replacing every "{{ NAME }}" with VALUE.
# Fails when a placeholder is left unreplaced.
bo_render() {
    local src=$1 dst=$2; shift 2
    [ -r "$src" ] || bo_die "template not found: $src"
    local tmp="$dst.tmp.$$"
    awk -v nvars="$#" '
        BEGIN {
            for (i = 1; i <= nvars; i++) {
                kv = ARGV[i]; eq = index(kv, "=")
                name[i] = "{{ " substr(kv, 1, eq - 1) " }}"; val[i] = substr(kv, eq + 1)
                ARGV[i] = ""
            }
        }
        {
            line = $0
            for (i = 1; i <= nvars; i++) {
                out = ""
                while ((p = index(line, name[i])) > 0) {
                    out = out substr(line, 1, p - 1) val[i]
                    line = substr(line, p + length(name[i]))
                }
                line = out line
            }
            print line
        }' "$@" < "$src" > "$tmp" || { rm -f "$tmp"; bo_die "rendering $src failed"; }
    if grep -n '{{ [a-z_]* }}' "$tmp" >&2; then
        rm -f "$tmp"; bo_die "unreplaced placeholders in $src (see above)"
    fi
    mv -f "$tmp" "$dst"
}

# bo_pid_alive PIDFILE [COMM_REGEX]: true when the pid in PIDFILE is running and (when given)
# its command line matches COMM_REGEX. Prints the pid.
bo_pid_alive() {
    local pidfile=$1 re=${2:-} pid
    [ -s "$pidfile" ] || return 1
    pid=$(tr -dc '0-9' < "$pidfile")
    [ -n "$pid" ] || return 1
    [ -d "/proc/$pid" ] || return 1
    # a zombie is not alive
    if grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then return 1; fi
    if [ -n "$re" ]; then
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -Eq -- "$re" || return 1
    fi
    echo "$pid"
}

# bo_stop_pid NAME PIDFILE COMM_REGEX SIGNAL TIMEOUT_S: send SIGNAL to the pid in PIDFILE (only
# when it is still the process we started), wait up to TIMEOUT_S, then SIGKILL its process group.
bo_stop_pid() {
    local name=$1 pidfile=$2 re=$3 sig=$4 timeout=$5 pid i
    if ! pid=$(bo_pid_alive "$pidfile" "$re"); then
        rm -f "$pidfile"
        return 0
    fi
    bo_log "stopping $name (pid $pid, SIG$sig)"
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
        [ -d "/proc/$pid" ] || break
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
        sleep 0.1
    done
    if [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
        bo_warn "$name (pid $pid) still running after ${timeout}s: SIGKILL to its process group"
        # every component is started with setsid, so its process group id is its pid
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
}

# bo_port_free PORT: true when nothing listens on 127.0.0.1:PORT.
bo_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# bo_tail FILE [N]: print the last N lines of FILE to stderr, indented.
bo_tail() {
    local f=$1 n=${2:-25}
    if [ -s "$f" ]; then
        printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
        tail -n "$n" "$f" | sed 's/^/    /' >&2
        printf -- '---\n' >&2
    else
        printf -- '--- %s is empty or missing ---\n' "$f" >&2
    fi
}

# bo_count_line TEXT_FILE: print "P F" from the last "N passed, M failed" line of a stage log
# (optionally prefixed by one word and a colon).
bo_count_line() {
    local line
    line=$(grep -E '^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" 2>/dev/null | tail -n 1)
    [ -n "$line" ] || return 1
    line=${line#*: }
    printf '%s %s\n' "$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')" \
                     "$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')"
}

# bo_build: autogen + out-of-tree configure in build/ + make. Extra configure options come from
# $BOXOFFICE_CONFIGURE_FLAGS. Output goes to stdout/stderr.
bo_build() {
    local root=$BOXOFFICE_ROOT build=${BOXOFFICE_BUILD_DIR:-$BOXOFFICE_ROOT/build}
    if [ -f "$root/config.status" ] && [ "$build" != "$root" ]; then
        bo_warn "the source tree is configured in place ($root/config.status); an out-of-tree build needs 'make distclean' there first"
        return 1
    fi
    if [ ! -x "$root/configure" ] || [ "$root/configure.ac" -nt "$root/configure" ] ||
       { [ -f "$root/Makefile.am" ] && [ "$root/Makefile.am" -nt "$root/Makefile.in" ]; }; then
        bo_log "build: ./autogen.sh"
        (cd "$root" && ./autogen.sh) || return 1
    fi
    mkdir -p "$build"
    if [ ! -f "$build/Makefile" ]; then
        bo_log "build: configure ${BOXOFFICE_CONFIGURE_FLAGS:-}"
        # shellcheck disable=SC2086
        (cd "$build" && "$root/configure" ${BOXOFFICE_CONFIGURE_FLAGS:-}) || return 1
    fi
    bo_log "build: make -j2 (in $build)"
    make -C "$build" -j2 || return 1
}
