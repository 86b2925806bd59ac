#pragma once
// LAN discovery: multicasts this node's signed beacon on every multicast-capable interface and
// reports the beacons of other kith nodes on the same segment (docs/wire.md, "LAN beacon").
//
// Threading: everything runs on one strand of the io_context given to the constructor, including
// on_sighting. Call start() and stop() from the io_context's thread (or before it runs); stats() may
// be called from any thread. Pending handlers keep the internal state alive, so destroying a
// Discovery (which stops it) while the io_context still runs is safe.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "identity/device.hpp"
#include "lan/beacon.hpp"
#include "lan/filter.hpp"

namespace kith::lan {

struct Options {
  std::uint16_t port = 29170;                // UDP port of the group, the same on every node
  std::string group_v4 = "239.255.70.77";    // organisation-local scope (RFC 2365)
  std::string group_v6 = "ff02::6b69:7468";  // link-local scope; "kith" in the group id
  bool ipv4 = true;
  bool ipv6 = true;
  // After the start burst (0 s, 0.3 s, 1 s) one beacon per interval on each interface.
  std::chrono::milliseconds interval{5000};
  // Interfaces are listed again this often, so one that comes up later is joined and sent on.
  std::chrono::milliseconds rescan_interval{30000};
  // Receive-side limits. forget_after is overridden with 3 × interval.
  FilterOptions limits;
};

struct Sighting {
  identity::DeviceCert cert;  // verified: cert.user vouches for cert.device, which signed the beacon
  // The contact channel's address: the datagram's source IP and the beacon's port, as
  // "192.0.2.7:4000", "[fe80::1%eth0]:4000" (link-local, with the interface) or "[2001:db8::1]:4000".
  std::string address;
  std::string interface;  // where the beacon arrived, e.g. "eth0"
};

class Discovery {
 public:
  struct Stats {
    std::uint64_t sent = 0;            // datagrams sent (one per interface and family per round)
    std::uint64_t send_errors = 0;     // sends the kernel refused (interface gone, no source address...)
    std::uint64_t received = 0;        // datagrams read, ours included
    std::uint64_t accepted = 0;        // valid beacons of other devices (each one is a sighting)
    std::uint64_t ignored_own = 0;     // our own beacons, looped back
    std::uint64_t rejected_bad = 0;    // not a valid beacon
    std::uint64_t dropped_rate = 0;    // over the per-source or the global verification limit
    std::uint64_t dropped_replay = 0;  // a sequence number already seen from that device
  };

  Discovery(boost::asio::io_context& io, Options options, identity::DeviceCert cert,
            std::uint16_t channel_port, SignFunction sign_with_device_key,
            std::function<void(const Sighting&)> on_sighting);
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Opens the sockets, joins the groups and sends the first beacon. Fails (base::errc::unavailable)
  // only if no enabled family could bind its socket; a family or an interface that fails is logged
  // and skipped.
  Status start();
  // Closes the sockets and cancels the timers; no sighting is reported afterwards.
  void stop();
  Stats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> m_impl;
};

}  // namespace kith::lan
