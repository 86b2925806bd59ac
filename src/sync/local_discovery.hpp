#pragma once
// Syncthing's Local Discovery Protocol v4 (docs/sync.md § Local discovery): announces this device's
// ID and BEP listener on UDP 21027, by IPv4 broadcast on every interface with a broadcast address and
// IPv6 multicast to ff12::8384 on every multicast interface, every 30 s and whenever a new device (or
// a restart of one) is heard; reads other devices' announces into a DiscoveryCache.
//
// What it learns only says where a device may be: the engine dials devices it has added, at their
// static addresses and these, and the TLS certificate check stays what proves who answered.
//
// Threading: everything runs on the strand given to the constructor (the engine's), including
// on_announce. Pending handlers keep the internal state alive, so destroying a LocalDiscovery (which
// stops it) while the io_context still runs is safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/async.hpp"
#include "base/error.hpp"
#include "bep/device_id.hpp"
#include "sync/discovery_cache.hpp"

namespace kith::sync {

struct LocalDiscoveryOptions {
  std::uint16_t port = 21027;  // Syncthing's; both families
  bool ipv4 = true;
  bool ipv6 = true;
  std::chrono::milliseconds interval{30'000};  // Syncthing's BroadcastInterval
  DiscoveryLimits limits;                      // lifetime: Syncthing's 3 intervals
};

class LocalDiscovery {
 public:
  // device: who announced; is_new: first heard within the cache lifetime, or a new instance of it.
  using OnAnnounce = std::function<void(const bep::DeviceId& device, bool is_new)>;

  // `addresses`: what to announce, e.g. {"tcp://:22000"} (an empty host: "the source of this datagram").
  LocalDiscovery(base::Strand strand, LocalDiscoveryOptions options, bep::DeviceId own,
                 std::vector<std::string> addresses, OnAnnounce on_announce);
  ~LocalDiscovery();
  LocalDiscovery(const LocalDiscovery&) = delete;
  LocalDiscovery& operator=(const LocalDiscovery&) = delete;

  // On the strand. Opens the sockets and sends the first announce. Fails (base::errc::unavailable)
  // only if neither family could bind; a family or an interface that fails is logged and skipped.
  Status start();
  void stop();
  // On the strand. Where `device` was announced within the cache lifetime ("tcp://IP:PORT").
  std::vector<std::string> addresses(const bep::DeviceId& device);

 private:
  struct Impl;
  std::shared_ptr<Impl> m_impl;
};

}  // namespace kith::sync
