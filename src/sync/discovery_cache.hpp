#pragma once
// The receive side of local discovery without sockets or timers (sans-IO, the clock passed in as
// `now`), so tests drive it directly: per-source flood limit, our own announces, the bounded cache
// of where each device was announced from, and "is this a device (or a restart of one) we have not
// seen lately", which is when Syncthing answers with an announce of its own.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bep/device_id.hpp"
#include "lan/detail/lru.hpp"

namespace kith::sync {

struct DiscoveryLimits {
  // Per source IP. Syncthing sends one announce per interval per interface and family, and one more
  // whenever it sees a new device; several devices can share an IP (two programs on one host).
  double per_source_rate = 1.0;  // datagrams per second
  double per_source_burst = 10.0;
  std::size_t max_sources = 1024;
  std::size_t max_devices = 256;   // the least recently announced device is forgotten beyond this
  std::size_t max_addresses = 16;  // kept per device and family
  // Syncthing's CacheLifeTime: three announce intervals.
  std::chrono::milliseconds lifetime{90'000};
  // At most one answer announce (sent because a new device appeared) per this long.
  std::chrono::milliseconds answer_gap{1'000};
};

class DiscoveryCache {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { accepted, own, bad, rate_limited };
  struct Decision {
    Verdict verdict = Verdict::bad;
    bep::DeviceId device;                // when accepted
    bool is_new = false;                 // accepted: not in the cache, expired, or a new instance_id
    std::vector<std::string> addresses;  // accepted: what kith can dial ("tcp://IP:PORT")
    std::string reason;                  // bad or rate_limited: why (for logs; never the peer's bytes)
  };

  DiscoveryCache(DiscoveryLimits limits, bep::DeviceId own);

  // A datagram from `source_ip` ("198.18.0.11", "fe80::1%eth0"); v6 says which socket it came in on
  // (each family keeps its own addresses and instance ID, so an IPv6 announce does not erase the IPv4
  // ones).
  Decision consider(std::string_view source_ip, bool v6, std::string_view datagram, Clock::time_point now);

  // Where `device` was announced within the lifetime: IPv4 addresses first (they need no interface
  // to go with them), no duplicates. Empty if unknown or expired.
  std::vector<std::string> lookup(const bep::DeviceId& device, Clock::time_point now);

  // A new device was accepted at `now`: when to send the answer. Never within answer_gap of the
  // previous answer (deferred, not dropped, so the newcomer still hears from us soon).
  Clock::time_point schedule_answer(Clock::time_point now);

  std::size_t devices() const { return m_devices.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last{};
  };
  // Syncthing runs one announcer per family, each with its own instance ID: so each family of a
  // device has its own entry, and a restart is a new instance ID within one family.
  struct Family {
    bool seen = false;
    std::int64_t instance_id = 0;
    std::vector<std::string> addresses;
    Clock::time_point at{};
  };
  struct Entry {
    Family v4, v6;
  };

  DiscoveryLimits m_limits;
  bep::DeviceId m_own;
  lan::detail::Lru<std::string, Bucket> m_sources;
  lan::detail::Lru<bep::DeviceId, Entry> m_devices;
  std::optional<Clock::time_point> m_last_answer;
};

}  // namespace kith::sync
