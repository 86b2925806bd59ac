#pragma once
// The receive-side policy of LAN discovery, without sockets or timers (sans-IO, clock injected as a
// `now` argument) so that tests drive it directly: flood limits, the replay check, "is this a device
// we have not heard from lately", and when to answer one.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/sign.hpp"
#include "lan/beacon.hpp"
#include "lan/detail/lru.hpp"

namespace kith::lan {

struct FilterOptions {
  // Per source IP token bucket, checked before anything else. A node sends a few beacons at start,
  // at most one answer per second and then one per interval per interface; several nodes can share
  // one host (and so one IP), hence the headroom.
  double per_source_rate = 4.0;  // datagrams per second
  double per_source_burst = 20.0;
  // All sources together: at most this many beacons get their two Ed25519 signatures verified per
  // second, so a flood from many (spoofed) addresses cannot eat the CPU.
  double verify_rate = 200.0;
  double verify_burst = 200.0;
  // Bounded memory: the least recently heard source / device is forgotten when a map is full. A
  // forgotten device's old beacons could be replayed once more; that only repeats a sighting.
  std::size_t max_sources = 1024;
  std::size_t max_devices = 1024;
  // A device not heard from for this long counts as new again (Discovery sets 3 intervals).
  std::chrono::milliseconds forget_after{15000};
  // At most one answer beacon (sent because a new device appeared) per this long.
  std::chrono::milliseconds answer_gap{1000};
};

enum class Verdict {
  accepted,      // a valid beacon from another device, not seen before
  own,           // our own device key (multicast loops back to us); ignored, never verified
  bad,           // not a valid beacon (size, magic, certificate, signature)
  rate_limited,  // dropped by the per-source bucket or the global verification cap
  replay,        // a sequence number this device already used, or too old to tell
};

struct Decision {
  Verdict verdict = Verdict::bad;
  std::optional<Beacon> beacon;  // set when accepted
  bool new_device = false;       // accepted, and not heard from within forget_after
  std::string reason;            // why, when bad or rate_limited (for logs)
};

class BeaconFilter {
 public:
  using Clock = std::chrono::steady_clock;

  BeaconFilter(FilterOptions options, const crypto::PublicKey& own_device);

  Decision consider(std::string_view source_ip, std::string_view datagram, Clock::time_point now);

  // A new device was accepted at `now`: when to send the answer beacon. Never earlier than now and
  // never within answer_gap of the previous answer (deferred, not dropped, so the newcomer still
  // hears from us soon). Records the answer as sent at the returned time.
  Clock::time_point schedule_answer(Clock::time_point now);

  std::size_t sources() const { return m_sources.size(); }
  std::size_t devices() const { return m_devices.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last{};
  };
  // Anti-replay window as in IPsec (RFC 4303 3.4.3): the highest sequence seen and a bitmap of the
  // 64 below it, so beacons reordered between interfaces or address families are still accepted
  // once each, while any repeat is dropped.
  struct Device {
    std::uint64_t highest = 0;
    std::uint64_t window = 0;  // bit i: highest - i was seen
    Clock::time_point last_accepted{};
  };

  static bool take(Bucket& bucket, double rate, double burst, Clock::time_point now);
  static bool seen(const Device& device, std::uint64_t sequence);

  FilterOptions m_options;
  crypto::PublicKey m_own;
  detail::Lru<std::string, Bucket> m_sources;
  detail::Lru<crypto::PublicKey, Device> m_devices;
  Bucket m_verify;
  std::optional<Clock::time_point> m_last_answer;
};

}  // namespace kith::lan
