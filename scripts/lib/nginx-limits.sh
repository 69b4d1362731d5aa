# shellcheck shell=bash
# How many requests nginx lets into the daemon at once, from the daemon's own config. This is
# the formula of the local stack (scripts/stack) and of the bench; the Ansible nginx role has
# the same one in Jinja (ansible/roles/nginx/defaults/main.yml), and
# tests/ansible/site_template_check.py checks that the two agree. docs/capacity.md explains it.
#
# bo_nginx_limits WORKERS LISTEN_BACKLOG [SOMAXCONN] [QUEUE_PER_WORKER]
#   prints "API READS OPS ADMITTED": the in-flight limits of the site's four request classes
#     API      = WORKERS x (1 + QUEUE_PER_WORKER)   (1 request queued per responder by default)
#     READS    = max(4, WORKERS / 2)                (fills of the micro-cache)
#     OPS      = 4                                  (health, readiness, metrics)
#     ADMITTED = what is left of half the listen queue (a waiting room's admitted buyers)
#   The four together stay within half of the listen queue (the kernel caps LISTEN_BACKLOG at
#   SOMAXCONN): connections nginx already gave up on still sit in the queue until a responder
#   accepts them, and the other half is their room. A connect() to the daemon then never finds
#   the queue full, which is what turned a surge into 502s. API takes at most half of what
#   READS and OPS leave, so ADMITTED >= API: admitted buyers come at the rooms' admitPerSecond,
#   and a deep class absorbs the daemon's hiccups instead of refusing a buyer whose turn came.
bo_nginx_limits() {
    local w=$1 b=$2 somax=${3:-4096} q=${4:-1} api reads ops room admitted
    [ "$b" -le "$somax" ] || b=$somax
    reads=$((w / 2)); [ "$reads" -ge 4 ] || reads=4
    ops=4
    api=$((w * (1 + q)))
    room=$((b / 2 - reads - ops))
    [ "$api" -le "$((room / 2))" ] || api=$((room / 2))
    [ "$api" -ge 1 ] || api=1
    admitted=$((room - api)); [ "$admitted" -ge 1 ] || admitted=1
    printf '%s %s %s %s\n' "$api" "$reads" "$ops" "$admitted"
}
