#include "lan/discovery.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "base/endpoint.hpp"
#include "lan/detail/interfaces.hpp"
#include "lan/detail/udp_socket.hpp"

namespace kith::lan {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

// Drop reports and send failures are logged at most this often: a flood must not become a log flood.
constexpr auto LOG_EVERY = std::chrono::seconds(10);
// Datagrams read per wake-up before yielding to the other socket and the timers.
constexpr int DRAIN_MAX = 64;
// The start burst after the first beacon (at 0 s): 0.3 s and 1 s, so a peer that missed the first one
// (its socket was not joined yet) still finds us within about a second.
constexpr std::array<std::chrono::milliseconds, 2> BURST_DELAYS{std::chrono::milliseconds(300),
                                                                std::chrono::milliseconds(700)};

std::string errno_text(int e) { return std::strerror(e); }

template <class T>
bool set_int_option(int fd, int level, int name, T value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

struct Discovery::Impl : std::enable_shared_from_this<Impl> {
  struct Family {
    bool v6;
    udp::socket socket;
    std::set<unsigned> joined;  // interface indices with a membership of our group
  };

  Impl(asio::io_context& io, Options options, identity::DeviceCert cert, std::uint16_t channel_port,
       SignFunction sign, std::function<void(const Sighting&)> on_sighting)
      : m_options(std::move(options)),
        m_cert(cert),
        m_channel_port(channel_port),
        m_sign(std::move(sign)),
        m_on_sighting(std::move(on_sighting)),
        m_strand(asio::make_strand(io)),
        m_v4{false, udp::socket(m_strand), {}},
        m_v6{true, udp::socket(m_strand), {}},
        m_send_timer(m_strand),
        m_answer_timer(m_strand),
        m_scan_timer(m_strand),
        m_filter(limits(m_options), cert.device) {}

  static FilterOptions limits(const Options& o) {
    FilterOptions f = o.limits;
    f.forget_after = 3 * o.interval;
    return f;
  }

  Status start();
  void stop();
  Status open(Family& f);
  void rescan();
  bool join(Family& f, const detail::Interface& i);
  void send_round();
  void send_on(Family& f, const detail::Interface& i);
  void schedule_send();
  void schedule_scan();
  void wait_read(Family& f);
  void drain(Family& f);
  void handle(std::string_view datagram, const sockaddr_storage& from, unsigned ifindex);
  void note_trouble(const std::string& what);

  Options m_options;
  identity::DeviceCert m_cert;
  std::uint16_t m_channel_port;
  SignFunction m_sign;
  std::function<void(const Sighting&)> m_on_sighting;
  asio::strand<asio::io_context::executor_type> m_strand;
  Family m_v4;
  Family m_v6;
  asio::steady_timer m_send_timer;
  asio::steady_timer m_answer_timer;
  asio::steady_timer m_scan_timer;
  BeaconFilter m_filter;
  in_addr m_group_v4{};
  in6_addr m_group_v6{};
  std::vector<detail::Interface> m_interfaces;
  std::uint64_t m_sequence = 0;
  std::size_t m_round = 0;
  bool m_running = false;
  bool m_answer_pending = false;
  Clock::time_point m_last_log{};
  bool m_logged_once = false;
  std::uint64_t m_unlogged = 0;

  std::atomic<std::uint64_t> m_sent{0}, m_send_errors{0}, m_received{0}, m_accepted{0}, m_own{0}, m_bad{0},
      m_rate{0}, m_replay{0};
};

Status Discovery::Impl::start() {
  if (m_running) return {};
  if (m_options.interval <= std::chrono::milliseconds(0) ||
      m_options.rescan_interval <= std::chrono::milliseconds(0))
    return fail(base::make_error_code(base::errc::invalid_argument),
                "LAN discovery intervals must be positive");
  if (m_options.ipv4 && inet_pton(AF_INET, m_options.group_v4.c_str(), &m_group_v4) != 1)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "not an IPv4 group: " + m_options.group_v4);
  if (m_options.ipv6 && inet_pton(AF_INET6, m_options.group_v6.c_str(), &m_group_v6) != 1)
    return fail(base::make_error_code(base::errc::invalid_argument),
                "not an IPv6 group: " + m_options.group_v6);
  // Sequence numbers must keep growing across restarts of this device, without storing anything:
  // unix milliseconds at start × 1000, plus one per datagram sent.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  m_sequence = static_cast<std::uint64_t>(ms.count()) * 1000;
  m_round = 0;  // a restarted Discovery bursts again

  std::string errors;
  for (Family* f : {&m_v4, &m_v6}) {
    if (f->v6 ? !m_options.ipv6 : !m_options.ipv4) continue;
    if (auto s = open(*f); !s) {
      spdlog::warn("LAN discovery: {}", s.error().message);
      errors += (errors.empty() ? "" : "; ") + s.error().message;
    }
  }
  if (!m_v4.socket.is_open() && !m_v6.socket.is_open())
    return fail(
        base::make_error_code(base::errc::unavailable),
        "LAN discovery has no socket: " + (errors.empty() ? std::string("both families disabled") : errors));
  m_running = true;
  rescan();
  for (Family* f : {&m_v4, &m_v6})
    if (f->socket.is_open()) wait_read(*f);
  send_round();
  schedule_send();
  schedule_scan();
  return {};
}

void Discovery::Impl::stop() {
  m_running = false;
  boost::system::error_code ignored;
  m_send_timer.cancel();
  m_answer_timer.cancel();
  m_scan_timer.cancel();
  m_v4.socket.close(ignored);
  m_v6.socket.close(ignored);
  m_v4.joined.clear();
  m_v6.joined.clear();
}

Status Discovery::Impl::open(Family& f) {
  return detail::open_udp(f.socket, f.v6, m_options.port, [&](udp::socket& socket) {
    const int fd = socket.native_handle();
    bool ok = true;
    if (!f.v6) {
      ok = set_int_option(fd, IPPROTO_IP, IP_PKTINFO, 1)            // which interface a beacon came in on
           && set_int_option(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1)  // two nodes on one host find each other
           && set_int_option(fd, IPPROTO_IP, IP_MULTICAST_TTL, 1);  // never beyond the segment
      // Bound to INADDR_ANY, Linux would otherwise deliver every group any socket on the host joined.
      set_int_option(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
    } else {
      ok = set_int_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) &&
           set_int_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1) &&
           set_int_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1);
#ifdef IPV6_MULTICAST_ALL
      set_int_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
    }
    boost::system::error_code ec = ok ? boost::system::error_code{} : detail::last_errno();
    if (!ec) socket.non_blocking(true, ec);
    return ec;
  });
}

bool Discovery::Impl::join(Family& f, const detail::Interface& i) {
  Status joined;
  if (!f.v6) {
    // ip_mreqn names the interface by index: INADDR_ANY would ask the routing table, which fails
    // (ENODEV) on a segment with no default route. EADDRINUSE: still a member from before the
    // interface went down.
    ip_mreqn m{};
    m.imr_multiaddr = m_group_v4;
    m.imr_ifindex = static_cast<int>(i.index);
    if (setsockopt(f.socket.native_handle(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0 &&
        errno != EADDRINUSE)
      joined = fail(base::make_error_code(base::errc::unavailable), errno_text(errno));
  } else {
    joined = detail::join_v6(f.socket.native_handle(), m_group_v6, i.index);
  }
  if (!joined) {
    note_trouble(std::string("cannot join the ") + (f.v6 ? "IPv6" : "IPv4") + " group on " + i.name + ": " +
                 joined.error().message);
    return false;
  }
  spdlog::debug("LAN discovery: joined the {} group on {}", f.v6 ? "IPv6" : "IPv4", i.name);
  return f.joined.insert(i.index).second;
}

void Discovery::Impl::rescan() {
  m_interfaces = detail::multicast_interfaces();
  bool joined_new = false;
  for (Family* f : {&m_v4, &m_v6}) {
    if (!f->socket.is_open()) continue;
    std::set<unsigned> present;
    for (const auto& i : m_interfaces) {
      if (!(f->v6 ? i.has_ipv6 : i.has_ipv4)) continue;
      present.insert(i.index);
      if (!f->joined.count(i.index) && join(*f, i)) joined_new = true;
    }
    // Forget interfaces that went down or away, so that they are joined again when they return.
    std::erase_if(f->joined, [&](unsigned index) { return !present.count(index); });
  }
  // A rescan at start is followed by the first round anyway; later, greet the new segment at once.
  if (joined_new && m_round > 0) send_round();
}

void Discovery::Impl::send_on(Family& f, const detail::Interface& i) {
  const int fd = f.socket.native_handle();
  int rc;
  if (!f.v6) {
    // The address too, as the source: on loopback Linux would otherwise pick none (0.0.0.0), since
    // 127.0.0.1 is host-scoped and the group is not.
    ip_mreqn m{};
    m.imr_ifindex = static_cast<int>(i.index);
    m.imr_address = i.ipv4;
    rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
  } else {
    const int index = static_cast<int>(i.index);
    rc = setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index);
  }
  if (rc != 0) {
    ++m_send_errors;
    note_trouble("cannot select " + i.name + " for sending: " + errno_text(errno));
    return;
  }
  // Every datagram gets its own sequence number (receivers drop repeats), so the same beacon
  // reaching a receiver over IPv4 and IPv6, or over two interfaces, is still counted once each.
  const Beacon beacon{m_cert, m_channel_port, ++m_sequence};
  const std::string bytes = encode_beacon(beacon, m_sign);
  udp::endpoint to;
  if (!f.v6) {
    to = udp::endpoint(asio::ip::make_address_v4(ntohl(m_group_v4.s_addr)), m_options.port);
  } else {
    asio::ip::address_v6::bytes_type raw;
    std::memcpy(raw.data(), &m_group_v6, raw.size());
    to = udp::endpoint(asio::ip::address_v6(raw, i.index), m_options.port);
  }
  boost::system::error_code ec;
  f.socket.send_to(asio::buffer(bytes), to, 0, ec);
  if (ec) {
    ++m_send_errors;
    note_trouble("cannot send on " + i.name + " (" + (f.v6 ? "IPv6" : "IPv4") + "): " + ec.message());
    return;
  }
  ++m_sent;
}

void Discovery::Impl::send_round() {
  if (!m_running) return;
  for (Family* f : {&m_v4, &m_v6}) {
    if (!f->socket.is_open()) continue;
    for (const auto& i : m_interfaces)
      if (f->joined.count(i.index)) send_on(*f, i);
  }
}

void Discovery::Impl::schedule_send() {
  const auto delay = m_round < BURST_DELAYS.size() ? BURST_DELAYS[m_round] : m_options.interval;
  ++m_round;
  m_send_timer.expires_after(delay);
  m_send_timer.async_wait(
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->m_running) return;
        self->send_round();
        self->schedule_send();
      }));
}

void Discovery::Impl::schedule_scan() {
  m_scan_timer.expires_after(m_options.rescan_interval);
  m_scan_timer.async_wait(
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->m_running) return;
        self->rescan();
        self->schedule_scan();
      }));
}

void Discovery::Impl::wait_read(Family& f) {
  f.socket.async_wait(
      udp::socket::wait_read,
      asio::bind_executor(m_strand, [self = shared_from_this(), &f](boost::system::error_code ec) {
        if (ec || !self->m_running) return;
        self->drain(f);
        if (self->m_running) self->wait_read(f);
      }));
}

void Discovery::Impl::drain(Family& f) {
  // recvmsg rather than Asio's receive_from: the interface a datagram arrived on (IP_PKTINFO /
  // IPV6_PKTINFO) is part of the sighting.
  for (int n = 0; n < DRAIN_MAX && f.socket.is_open(); ++n) {
    std::array<char, 2048> buffer;  // beacons are 210 bytes; anything longer is junk anyway
    alignas(cmsghdr) std::array<char, 256> control;
    sockaddr_storage from{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t got = recvmsg(f.socket.native_handle(), &msg, MSG_DONTWAIT);
    if (got < 0) return;  // EAGAIN: drained (other errors: the next wake-up tries again)
    ++m_received;
    unsigned ifindex = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        ifindex = static_cast<unsigned>(info.ipi_ifindex);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        ifindex = info.ipi6_ifindex;
      }
    }
    handle(std::string_view(buffer.data(), static_cast<std::size_t>(got)), from, ifindex);
  }
}

void Discovery::Impl::handle(std::string_view datagram, const sockaddr_storage& from, unsigned ifindex) {
  char text[INET6_ADDRSTRLEN] = {};
  std::string ip;
  if (from.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(from).sin_addr, text, sizeof text);
    ip = text;
  } else if (from.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(from);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    ip = text;
    // A link-local address means nothing without its interface.
    if (a.sin6_scope_id != 0) ip += "%" + detail::interface_name(a.sin6_scope_id);
  } else {
    ++m_bad;
    return;
  }

  Decision d = m_filter.consider(ip, datagram, Clock::now());
  switch (d.verdict) {
    case Verdict::own:
      ++m_own;
      return;
    case Verdict::bad:
      ++m_bad;
      note_trouble("rejected a datagram from " + ip + ": " + d.reason);
      return;
    case Verdict::rate_limited:
      ++m_rate;
      note_trouble("dropped a datagram: " + d.reason);
      return;
    case Verdict::replay:
      ++m_replay;  // also every copy of one datagram that arrives on two interfaces: not worth a log line
      return;
    case Verdict::accepted:
      break;
  }
  ++m_accepted;
  if (d.new_device && !m_answer_pending) {
    // Answer a newcomer at once (rate-limited by the filter), so it learns about us without
    // waiting for our next periodic beacon.
    m_answer_pending = true;
    m_answer_timer.expires_at(m_filter.schedule_answer(Clock::now()));
    m_answer_timer.async_wait(
        asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
          self->m_answer_pending = false;
          if (ec || !self->m_running) return;
          self->send_round();
        }));
  }
  Sighting s;
  s.cert = d.beacon->cert;
  s.address = base::join_host_port(ip, d.beacon->port);
  s.interface = ifindex ? detail::interface_name(ifindex) : std::string();
  if (!m_on_sighting) return;
  try {
    m_on_sighting(s);
  } catch (const std::exception& e) {  // a consumer's bug must not stop discovery or the io_context
    spdlog::error("LAN discovery: sighting handler failed: {}", e.what());
  }
}

void Discovery::Impl::note_trouble(const std::string& what) {
  const auto now = Clock::now();
  if (m_logged_once && now - m_last_log < LOG_EVERY) {
    ++m_unlogged;
    return;
  }
  if (m_unlogged > 0)
    spdlog::warn("LAN discovery: {} (and {} more problems not logged in the last {} s)", what, m_unlogged,
                 std::chrono::duration_cast<std::chrono::seconds>(now - m_last_log).count());
  else
    spdlog::warn("LAN discovery: {}", what);
  m_logged_once = true;
  m_last_log = now;
  m_unlogged = 0;
}

Discovery::Discovery(boost::asio::io_context& io, Options options, identity::DeviceCert cert,
                     std::uint16_t channel_port, SignFunction sign_with_device_key,
                     std::function<void(const Sighting&)> on_sighting)
    : m_impl(std::make_shared<Impl>(io, std::move(options), cert, channel_port,
                                    std::move(sign_with_device_key), std::move(on_sighting))) {}

Discovery::~Discovery() { m_impl->stop(); }

Status Discovery::start() { return m_impl->start(); }

void Discovery::stop() { m_impl->stop(); }

Discovery::Stats Discovery::stats() const {
  const Impl& i = *m_impl;
  return Stats{i.m_sent, i.m_send_errors, i.m_received, i.m_accepted, i.m_own, i.m_bad, i.m_rate, i.m_replay};
}

}  // namespace kith::lan
