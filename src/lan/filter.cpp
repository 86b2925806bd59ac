#include "lan/filter.hpp"

#include <algorithm>

namespace kith::lan {

BeaconFilter::BeaconFilter(FilterOptions options, const crypto::PublicKey& own_device)
    : m_options(options),
      m_own(own_device),
      m_sources(options.max_sources),
      m_devices(options.max_devices),
      m_verify{options.verify_burst, {}} {}

bool BeaconFilter::take(Bucket& bucket, double rate, double burst, Clock::time_point now) {
  if (now > bucket.last) {
    const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
    bucket.tokens = std::min(burst, bucket.tokens + elapsed * rate);
    bucket.last = now;
  }
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

bool BeaconFilter::seen(const Device& device, std::uint64_t sequence) {
  if (sequence > device.highest) return false;
  const std::uint64_t age = device.highest - sequence;
  if (age >= 64) return true;  // too old to tell: treat as a replay
  return (device.window >> age) & 1u;
}

Decision BeaconFilter::consider(std::string_view source_ip, std::string_view datagram,
                                Clock::time_point now) {
  Decision d;
  Bucket* source = m_sources.find(std::string(source_ip));
  if (!source) source = &m_sources.put(std::string(source_ip), Bucket{m_options.per_source_burst, now});
  if (!take(*source, m_options.per_source_rate, m_options.per_source_burst, now)) {
    d.verdict = Verdict::rate_limited;
    d.reason = "too many datagrams from " + std::string(source_ip);
    return d;
  }
  // Cheap checks on the claimed contents first; nothing is stored from them.
  auto claimed = parse_beacon_unverified(datagram);
  if (!claimed) {
    d.verdict = Verdict::bad;
    d.reason = claimed.error().message;
    return d;
  }
  if (claimed->cert.device == m_own) {
    d.verdict = Verdict::own;
    return d;
  }
  if (const Device* known = m_devices.find(claimed->cert.device); known && seen(*known, claimed->sequence)) {
    d.verdict = Verdict::replay;
    return d;
  }
  if (!take(m_verify, m_options.verify_rate, m_options.verify_burst, now)) {
    d.verdict = Verdict::rate_limited;
    d.reason = "over the cap of signature verifications per second";
    return d;
  }
  auto beacon = decode_beacon(datagram);
  if (!beacon) {
    d.verdict = Verdict::bad;
    d.reason = beacon.error().message;
    return d;
  }

  Device* device = m_devices.find(beacon->cert.device);
  d.new_device = !device || now - device->last_accepted >= m_options.forget_after;
  if (!device) device = &m_devices.put(beacon->cert.device, Device{beacon->sequence, 1u, now});
  const std::uint64_t seq = beacon->sequence;
  if (seq > device->highest) {
    const std::uint64_t shift = seq - device->highest;
    device->window = shift >= 64 ? 1u : (device->window << shift) | 1u;
    device->highest = seq;
  } else {
    device->window |= std::uint64_t{1} << (device->highest - seq);
  }
  device->last_accepted = now;
  d.verdict = Verdict::accepted;
  d.beacon = std::move(*beacon);
  return d;
}

BeaconFilter::Clock::time_point BeaconFilter::schedule_answer(Clock::time_point now) {
  Clock::time_point at = now;
  if (m_last_answer) at = std::max(now, *m_last_answer + m_options.answer_gap);
  m_last_answer = at;
  return at;
}

}  // namespace kith::lan
