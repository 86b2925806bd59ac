#include "sync/discovery_cache.hpp"

#include <algorithm>

#include "bep/announce.hpp"

namespace kith::sync {

DiscoveryCache::DiscoveryCache(DiscoveryLimits limits, bep::DeviceId own)
    : m_limits(limits), m_own(own), m_sources(limits.max_sources), m_devices(limits.max_devices) {}

DiscoveryCache::Decision DiscoveryCache::consider(std::string_view source_ip, bool v6,
                                                  std::string_view datagram, Clock::time_point now) {
  Decision d;
  Bucket* bucket = m_sources.find(std::string(source_ip));
  if (!bucket) bucket = &m_sources.put(std::string(source_ip), Bucket{m_limits.per_source_burst, now});
  if (now > bucket->last) {
    const double elapsed = std::chrono::duration<double>(now - bucket->last).count();
    bucket->tokens = std::min(m_limits.per_source_burst, bucket->tokens + elapsed * m_limits.per_source_rate);
    bucket->last = now;
  }
  if (bucket->tokens < 1.0) {
    d.verdict = Verdict::rate_limited;
    d.reason = "too many datagrams from " + std::string(source_ip);
    return d;
  }
  bucket->tokens -= 1.0;

  auto announce = bep::decode_announce(datagram);
  if (!announce) {
    d.verdict = Verdict::bad;
    d.reason = announce.error().message;
    return d;
  }
  if (announce->id == m_own) {
    d.verdict = Verdict::own;
    return d;
  }
  std::vector<std::string> dialable;
  for (const auto& a : announce->addresses) {
    auto r = bep::resolve_announced(a, source_ip);
    if (r && dialable.size() < m_limits.max_addresses &&
        std::find(dialable.begin(), dialable.end(), *r) == dialable.end())
      dialable.push_back(std::move(*r));
  }
  d.verdict = Verdict::accepted;
  d.device = announce->id;
  Entry* e = m_devices.find(announce->id);
  if (!e) e = &m_devices.put(announce->id, Entry{});
  Family& f = v6 ? e->v6 : e->v4;
  d.is_new = !f.seen || now - f.at > m_limits.lifetime || f.instance_id != announce->instance_id;
  f = Family{true, announce->instance_id, dialable, now};
  d.addresses = std::move(dialable);
  return d;
}

std::vector<std::string> DiscoveryCache::lookup(const bep::DeviceId& device, Clock::time_point now) {
  std::vector<std::string> out;
  Entry* e = m_devices.find(device);
  if (!e) return out;
  for (const Family* f : {&e->v4, &e->v6}) {
    if (!f->seen || now - f->at > m_limits.lifetime) continue;
    for (const auto& a : f->addresses)
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

DiscoveryCache::Clock::time_point DiscoveryCache::schedule_answer(Clock::time_point now) {
  Clock::time_point at = now;
  if (m_last_answer && *m_last_answer + m_limits.answer_gap > at) at = *m_last_answer + m_limits.answer_gap;
  m_last_answer = at;
  return at;
}

}  // namespace kith::sync
