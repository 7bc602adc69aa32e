#!/usr/bin/env bash
# PID 1 of the QEMU tier's namespace (started by daemon.sh under `unshare`): binds the private copies over the
# system paths, brings up the namespace's loopback, then runs libvirtd and reaps orphans (QEMU, dnsmasq) until
# it is killed. Everything here happens inside the new mount and network namespaces only.
set -euo pipefail
run="$1"
cache="$2"
mount --bind "$run/etc/libvirt" /etc/libvirt
mount --bind "$run/lib" /var/lib/libvirt
mount --bind "$run/run" /run/libvirt
mount --bind "$run/log" /var/log/libvirt
mount --bind "$cache" /var/cache/libvirt
mount --bind "$run/passwd" /etc/passwd
mount --bind "$run/group" /etc/group
mount --bind "$run/shadow" /etc/shadow
ip link set lo up
echo $$ > "$run/nspid1.inner"
# The host's view of our PID (for nsenter) and of the network namespace (for teardown by PID).
stat -L -c %i /proc/self/ns/net > "$run/netns.inode"
libvirtd > "$run/libvirtd.log" 2>&1 &
daemon=$!
echo "$daemon" > "$run/libvirtd.pid.inner"
# Reap every child, including orphaned QEMU processes, so none lingers as a zombie that libvirt takes for alive.
while :; do
  wait || true
  sleep 1
done
