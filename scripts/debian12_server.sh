#!/usr/bin/env bash
# A blank Debian 12 server with systemd as PID 1, for following README "Self-hosting" step
# by step: a systemd-nspawn container with its own network (NAT through this machine) and
# this checkout as a bare git repository at /opt/parti-site.git inside it.
#
#   sudo scripts/debian12_server.sh start [NAME]   # boots it; prints how to run commands
#   sudo scripts/debian12_server.sh stop [NAME]    # powers it off and deletes it
#
# Needs root, debootstrap, systemd-container and nftables (apt-get install ...). The base
# system is made once by debootstrap and kept in /var/lib/machines/debian12-base.tar.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-start}
name=${2:-parti-deb12}   # 12 characters at most (the veth is ve-NAME)
root=/var/lib/machines/$name
base=/var/lib/machines/debian12-base.tar
subnet=10.79.0          # host side .1, container .2
pidfile=/run/$name.pid

if [ "$action" = stop ]; then
    if [ -f "$pidfile" ]; then
        kill -RTMIN+4 "$(cat "$pidfile")" 2>/dev/null || true   # systemd: power off
        sleep 5
    fi
    pkill -f "systemd-nspawn -D $root " 2>/dev/null || true
    rm -rf "$root" "$pidfile"
    exit 0
fi

if [ ! -f "$base" ]; then
    tmp=$(mktemp -d /var/lib/machines/base.XXXX)
    debootstrap --include=systemd,systemd-sysv,dbus,ca-certificates bookworm "$tmp" \
        http://deb.debian.org/debian
    tar -C "$tmp" -cf "$base" . && rm -rf "$tmp"
fi

rm -rf "$root" && mkdir -p "$root" && tar -C "$root" -xf "$base"
chmod 755 "$root"   # its / (mktemp's 700 would lock every service user out)
echo "$name" > "$root/etc/hostname"
cat > "$root/etc/apt/sources.list" <<EOF
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
# This machine's extra CA certificates (a TLS-inspecting egress, say) hold there too.
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
chroot "$root" update-ca-certificates >/dev/null
nameserver=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)
mkdir -p "$root/etc/systemd/network"
cat > "$root/etc/systemd/network/10-host0.network" <<EOF
[Match]
Name=host0
[Network]
Address=$subnet.2/24
Gateway=$subnet.1
DNS=$nameserver
EOF
chroot "$root" systemctl enable systemd-networkd >/dev/null 2>&1
git clone -q --bare . "$root/opt/parti-site.git" && chmod -R a+rX "$root/opt/parti-site.git"
# Owned by root here, cloned by the user "parti" there: git would call it dubious.
printf '[safe]\n\tdirectory = /opt/parti-site.git\n' > "$root/etc/gitconfig"

# NAT for the container's subnet.
echo 1 > /proc/sys/net/ipv4/ip_forward
nft list table ip parti_walkthrough >/dev/null 2>&1 || nft -f - <<EOF
table ip parti_walkthrough {
    chain post { type nat hook postrouting priority 100; ip saddr $subnet.0/24 masquerade; }
}
EOF

# --keep-unit and --register=no: this machine's own PID 1 is not systemd.
setsid systemd-nspawn -D "$root" -b --register=no --keep-unit --network-veth \
    --machine="$name" > "/var/log/$name.console" 2>&1 < /dev/null &
nspawn=$!
veth="ve-$name"
for _ in $(seq 100); do ip link show "$veth" >/dev/null 2>&1 && break; sleep 0.1; done
ip addr add "$subnet.1/24" dev "$veth" && ip link set "$veth" up
for _ in $(seq 100); do pgrep -P "$nspawn" > "$pidfile" && break; sleep 0.1; done
for _ in $(seq 120); do
    state=$(nsenter -t "$(cat "$pidfile")" -a systemctl is-system-running 2>/dev/null || true)
    case $state in running|degraded) break ;; esac
    sleep 0.5
done
echo "Debian 12 server '$name' is $state at $subnet.2 (console log /var/log/$name.console)."
echo "Run commands in it:   nsenter -t \$(cat $pidfile) -a bash -l"
echo "The repository URL:   /opt/parti-site.git"
