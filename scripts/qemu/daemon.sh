#!/usr/bin/env bash
# A private libvirt daemon for the QEMU test tier, inside a mount + network + PID namespace of its own.
#
#   daemon.sh up RUNDIR      starts it; prints the socket path (connect with qemu:///system?socket=SOCKET)
#   daemon.sh down RUNDIR    kills it (and every process in its namespaces: QEMU, dnsmasq, sshd) by PID
#   daemon.sh sshd RUNDIR    starts an sshd inside the namespace (see below); prints "PORT USER KEYFILE SSH_WRAPPER"
#
# What stays private: the daemon sees its own copies of /etc/libvirt, /var/lib/libvirt, /run/libvirt,
# /var/log/libvirt (all under RUNDIR) and of /etc/passwd, /etc/group, /etc/shadow (with the `libvirt-qemu` user
# libvirtd insists on, and the sshd's throwaway user; an overlay on /etc, see ns-init.sh). Its bridges, iptables rules and dnsmasq live in a fresh
# network namespace, which has no route anywhere: no guest traffic can leave it. /var/cache/libvirt is bound to a
# folder in the image cache, so the ≈ 8 s capability probe is paid once per machine, not per run.
#
# Teardown is by PID: `unshare --kill-child` makes the namespace's PID 1 die with the unshare process, and the kernel
# then kills every process of that PID namespace. RUNDIR/unshare.pid names the unshare process.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cmd="${1:-}"
run="${2:-}"
[ -n "$cmd" ] && [ -n "$run" ] || { echo "usage: $0 up|down|sshd RUNDIR" >&2; exit 2; }
case "$run" in /*) ;; *) run="$(pwd)/$run" ;; esac
cache="${CLUSTERDESK_QEMU_CACHE:-${HOME:-/root}/.cache/clusterdesk-qemu}"

# The pid of a process of ours, if it is still alive and still the process we started (same start time).
alive() {
  local pidfile="$1" pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -d "/proc/$pid" ] || return 1
  echo "$pid"
}

down() {
  local pid
  if pid=$(alive "$run/unshare.pid"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  # Every process left in the namespace (there should be none: PID 1 died) is ours: kill them by PID.
  if [ -s "$run/netns.inode" ]; then
    local ino p
    ino=$(cat "$run/netns.inode")
    for p in $(find /proc/[0-9]*/ns/net -maxdepth 0 -lname "net:\[$ino\]" 2>/dev/null | cut -d/ -f3); do
      kill -KILL "$p" 2>/dev/null || true
    done
  fi
  rm -f "$run/unshare.pid"
}

up() {
  for tool in libvirtd qemu-system-x86_64 qemu-img dnsmasq iptables unshare ip; do
    command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool (install the qemu tier's packages: scripts/install.sh --qemu)" >&2; exit 1; }
  done
  # Mount points the private copies are bound onto (empty folders; the packages would create them anyway).
  mkdir -p /var/lib/libvirt /run/libvirt /var/log/libvirt /var/cache/libvirt
  mkdir -p "$run"/{etc/libvirt/qemu/networks,etc/libvirt/storage,lib,run,log,home} "$cache/libvirt-cache"
  chmod 0700 "$run"
  cat > "$run/etc/libvirt/libvirtd.conf" <<CONF
# Only the UNIX sockets; no TCP/TLS listener. Anyone in the namespace who can reach the socket file may manage it.
unix_sock_group = "cdqemu"
unix_sock_ro_perms = "0770"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:stderr"
CONF
  cat > "$run/etc/libvirt/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
CONF
  : > "$run/etc/libvirt/libvirt.conf"
  # passwd/group/shadow with the users the namespace needs (never written to the host's files).
  local e="$run/etc-upper"
  mkdir -p "$e" "$run/etc-work"
  cp /etc/passwd "$e/passwd"; cp /etc/group "$e/group"; cp /etc/shadow "$e/shadow"
  chmod 0600 "$e/shadow"
  grep -q '^libvirt-qemu:' "$e/passwd" || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >> "$e/passwd"
  grep -q '^libvirt-qemu:' "$e/group" || echo 'libvirt-qemu:x:64055:' >> "$e/group"
  grep -q '^kvm:' "$e/group" || echo 'kvm:x:64056:' >> "$e/group"
  echo "cdqemu:x:64057:cdqemu" >> "$e/group"
  echo "cdqemu:x:64057:64057:Clusterdesk qemu tier:$run/home:/bin/sh" >> "$e/passwd"
  echo 'cdqemu:*:19000:0:99999:7:::' >> "$e/shadow"
  ip -V >/dev/null

  rm -f "$run/ready"
  setsid unshare --mount --net --pid --fork --kill-child --mount-proc --propagation private \
    bash "$here/ns-init.sh" "$run" "$cache/libvirt-cache" > "$run/ns.log" 2>&1 < /dev/null &
  echo $! > "$run/unshare.pid"
  # Wait for the namespace to be set up and the daemon's socket to appear.
  local sock="$run/run/libvirt-sock" t=0
  while [ ! -S "$sock" ]; do
    if ! alive "$run/unshare.pid" >/dev/null; then
      echo "libvirtd did not start:" >&2; tail -n 30 "$run/ns.log" "$run/libvirtd.log" >&2 2>/dev/null || true; exit 1
    fi
    t=$((t + 1)); [ "$t" -lt 300 ] || { echo "libvirtd's socket did not appear in 30 s" >&2; tail -n 30 "$run/libvirtd.log" >&2 || true; down; exit 1; }
    sleep 0.1
  done
  # The host PID of the namespace's PID 1 (unshare's only child), for nsenter.
  cat "/proc/$(cat "$run/unshare.pid")/task/"*/children | awk '{print $1}' > "$run/nspid1"
  echo "$sock"
}

sshd_up() {
  local pid1 port key
  pid1=$(cat "$run/nspid1")
  mkdir -p "$run/ssh" "$run/home/.ssh"
  [ -s "$run/ssh/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$run/ssh/host_key"
  [ -s "$run/ssh/user_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$run/ssh/user_key"
  cp "$run/ssh/user_key.pub" "$run/home/.ssh/authorized_keys"
  chown -R 64057:64057 "$run/home"; chmod 0755 "$run"; chmod 0700 "$run/home/.ssh"
  port=$((20000 + RANDOM % 20000))
  cat > "$run/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $run/ssh/host_key
PidFile $run/ssh/sshd.pid
AuthorizedKeysFile $run/home/.ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers cdqemu
CONF
  mkdir -p /run/sshd
  nsenter --target "$pid1" --mount --net --pid -- /usr/sbin/sshd -f "$run/ssh/sshd_config" -E "$run/ssh/sshd.log"
  # The ssh client runs inside the namespace too (127.0.0.1 there is not the host's): libvirt calls this wrapper
  # through the URI's `command=` parameter. Host keys go to a known_hosts of the run, never the user's.
  {
    echo '#!/bin/sh'
    printf 'exec nsenter --target %q --net -- ssh -o UserKnownHostsFile=%q -o StrictHostKeyChecking=no -o BatchMode=yes "$@"\n' "$pid1" "$run/ssh/known_hosts"
  } > "$run/ssh/ssh"
  chmod 0755 "$run/ssh/ssh"
  echo "$port cdqemu $run/ssh/user_key $run/ssh/ssh"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  sshd) sshd_up ;;
  *) echo "usage: $0 up|down|sshd RUNDIR" >&2; exit 2 ;;
esac
