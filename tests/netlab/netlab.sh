#!/usr/bin/env bash
# Vendored from the team's shared netlab (../shared/netlab/, which CI's clean clone does not have);
# two additions: HOMES=0 leaves out the home router and peer C (and so needs no nftables); CGN=1 puts
# home router 1 behind a carrier-grade NAT (a double NAT for peer C).
#
# netlab.sh — multi-host P2P test lab from Linux network namespaces (run as root, Debian 12).
# Needs: iproute2, nftables, iptables (iptables-nft, for NFQUEUE), python3; optional socat, iperf3.
# Topology (every address lives only inside namespaces this script creates):
#
#   <P>sw : bridge br0 = "Internet" 198.18.0.0/24 (RFC 2544 benchmarking range)
#   <P>a  : eth0 198.18.0.11/24                 public peer A
#   <P>b  : eth0 198.18.0.12/24                 public peer B
#   <P>r  : wan0 198.18.0.1/24 | lan0 10.77.0.1/24   home router 1, NAT (nft masquerade)
#   <P>c  : eth0 10.77.0.10/24 gw 10.77.0.1     peer C behind NAT 1
#   HOMES=0 leaves out <P>r and <P>c; HOMES=2 adds:
#   <P>r2 : wan0 198.18.0.2/24 | lan0 10.88.0.1/24   home router 2
#   <P>d  : eth0 10.88.0.10/24 gw 10.88.0.1     peer D behind NAT 2
#   NAT=cone (default: port-preserving masquerade) | NAT=symmetric (masquerade random-fully)
#   | NAT=cone-nosyn (cone, but every TCP SYN from the WAN is dropped: no TCP hole punch gets through)
#   UPNP=1 (HOMES >= 1) prepares home router 1 for miniupnpd (its nftables chains; forwards let in)
#   CGN=1 (HOMES >= 1) puts a carrier-grade NAT (same NAT kind) in front of home router 1:
#   <P>cg : wan0 198.18.0.3/24 | lan0 100.64.0.1/24  carrier-grade NAT
#   <P>r  : wan0 100.64.0.2/24 gw 100.64.0.1 (instead of 198.18.0.1 on the bridge)
#
# usage: netlab.sh up | down | status
set -euo pipefail
P=${PFX:-nl-}; HOMES=${HOMES:-1}; NAT=${NAT:-cone}; CGN=${CGN:-0}; UPNP=${UPNP:-0}
NS_ALL="${P}sw ${P}a ${P}b"; [ "$HOMES" != 0 ] && NS_ALL="$NS_ALL ${P}r ${P}c"
[ "$HOMES" != 0 ] && [ "$CGN" = 1 ] && NS_ALL="$NS_ALL ${P}cg"
[ "$HOMES" = 2 ] && NS_ALL="$NS_ALL ${P}r2 ${P}d"
ns() { ip netns exec "$@"; }

wan_host() { # name addr
  ip link add eth0 netns ${P}$1 type veth peer name v$1 netns ${P}sw
  ns ${P}sw ip link set v$1 master br0 up
  ns ${P}$1 ip addr add $2/24 dev eth0
  ns ${P}$1 ip link set eth0 up
  ns ${P}$1 ip route add 224.0.0.0/4 dev eth0      # multicast works without a default route
}

home() { # router-ns wan-addr lan-prefix(e.g. 10.77.0) host-ns
  local r=$1 wan=$2 lan=$3 h=$4
  ip link add wan0 netns ${P}$r type veth peer name v$r netns ${P}sw
  ns ${P}sw ip link set v$r master br0 up
  ns ${P}$r ip addr add $wan/24 dev wan0
  ns ${P}$r ip link set wan0 up
  ip link add lan0 netns ${P}$r type veth peer name eth0 netns ${P}$h
  ns ${P}$r ip addr add $lan.1/24 dev lan0
  ns ${P}$r ip link set lan0 up
  ns ${P}$h ip addr add $lan.10/24 dev eth0
  ns ${P}$h ip link set eth0 up
  ns ${P}$h ip route add default via $lan.1
  natbox $r $lan
}

cgn() { # puts a carrier-grade NAT <P>cg between the bridge and home router 1
  ns ${P}r ip link del wan0   # its bridge side goes with it
  ip link add wan0 netns ${P}cg type veth peer name vcg netns ${P}sw
  ns ${P}sw ip link set vcg master br0 up
  ns ${P}cg ip addr add 198.18.0.3/24 dev wan0
  ns ${P}cg ip link set wan0 up
  ip link add lan0 netns ${P}cg type veth peer name wan0 netns ${P}r
  ns ${P}cg ip addr add 100.64.0.1/24 dev lan0
  ns ${P}cg ip link set lan0 up
  ns ${P}r ip addr add 100.64.0.2/24 dev wan0
  ns ${P}r ip link set wan0 up
  ns ${P}r ip route add default via 100.64.0.1
  natbox cg 100.64.0
}

natbox() { # router-ns lan-prefix: forwarding, NAT from lan0 to wan0, no unsolicited WAN traffic in
  local r=$1 lan=$2 masq="masquerade" nosyn="" forwards=""
  [ "$NAT" = symmetric ] && masq="masquerade random,fully-random"
  # NAT=cone-nosyn: a cone NAT that drops every TCP SYN from the WAN side, also one that crosses an
  # outgoing SYN (a TCP simultaneous open), as routers without RFC 5382 REQ-4 do; UDP punches still work
  [ "$NAT" = cone-nosyn ] && nosyn='iifname "wan0" tcp flags & (syn | ack) == syn drop'
  # UPNP=1: home router 1 runs miniupnpd (the test starts it): the port forwards it sets up are let in
  [ "$UPNP" = 1 ] && [ "$r" = r ] && forwards='iifname "wan0" oifname "lan0" ct status dnat accept' 
  ns ${P}$r sysctl -qw net.ipv4.ip_forward=1
  ns ${P}$r nft -f - <<NFT
table ip natbox_nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan0" ip saddr $lan.0/24 $masq
  }
}
table ip natbox_filter {
  chain input {
    # drop unsolicited WAN traffic to the router itself, as home routers do; this also
    # keeps such packets from leaving confirmed conntrack entries that would make the
    # NAT pick a different port later (which breaks UDP hole punching)
    type filter hook input priority filter; policy accept;
    iifname "wan0" ct state established,related accept
    iifname "wan0" drop
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    $nosyn
    $forwards
    iifname "lan0" oifname "wan0" accept
    iifname "wan0" oifname "lan0" ct state established,related accept
  }
}
NFT
}

upnp_tables() { # router-ns: the nftables chains miniupnpd (nftables build) fills with its forwards
  ns ${P}$1 nft -f - <<NFT
table inet filter {
  chain forward { type filter hook forward priority -10; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; jump prerouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; jump postrouting_miniupnpd; }
  chain postrouting_miniupnpd { }
}
NFT
}

up() {
  for n in $NS_ALL; do ip netns add "$n"; ns "$n" ip link set lo up; done
  ns ${P}sw ip link add br0 type bridge
  ns ${P}sw ip link set br0 type bridge mcast_snooping 0   # plain flooding switch
  ns ${P}sw ip link set br0 up
  wan_host a 198.18.0.11
  wan_host b 198.18.0.12
  [ "$HOMES" != 0 ] && home r 198.18.0.1 10.77.0 c
  [ "$HOMES" != 0 ] && [ "$UPNP" = 1 ] && upnp_tables r
  [ "$HOMES" != 0 ] && [ "$CGN" = 1 ] && cgn
  [ "$HOMES" = 2 ] && home r2 198.18.0.2 10.88.0 d
  return 0
}

down() {
  for n in $NS_ALL; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  done
  sleep 0.2
  for n in $NS_ALL; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
}

status() { ip netns list | grep "^${P}" || true; }
"${1:-status}"
