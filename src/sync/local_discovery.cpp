#include "sync/local_discovery.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <set>

#include "bep/announce.hpp"
#include "crypto/random.hpp"
#include "lan/detail/interfaces.hpp"
#include "lan/detail/udp_socket.hpp"

namespace kith::sync {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;

constexpr const char* GROUP_V6 = "ff12::8384";  // transient, link-local scope (Syncthing's)
// Problems (a flood, a send the kernel refuses) are logged at most this often.
constexpr auto LOG_EVERY = std::chrono::seconds(10);

std::int64_t random_instance_id() {
  std::int64_t v = 0;
  for (char c : crypto::random_bytes(8)) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string short_text(const bep::DeviceId& id) { return bep::to_string(id).substr(0, 7); }

}  // namespace

struct LocalDiscovery::Impl : std::enable_shared_from_this<Impl> {
  struct Family {
    bool v6;
    udp::socket socket;
    std::set<unsigned> joined;  // IPv6: interfaces with a membership of ff12::8384
    udp::endpoint from;
    std::array<char, bep::MAX_ANNOUNCE + 1> buffer{};  // one more: an oversize datagram shows as such
  };

  Impl(base::Strand strand, LocalDiscoveryOptions options, bep::DeviceId own,
       std::vector<std::string> addresses, OnAnnounce on_announce)
      : m_options(options),
        m_own(own),
        m_addresses(std::move(addresses)),
        m_on_announce(std::move(on_announce)),
        m_strand(strand),
        m_v4{false, udp::socket(strand), {}, {}, {}},
        m_v6{true, udp::socket(strand), {}, {}, {}},
        m_send_timer(strand),
        m_answer_timer(strand),
        m_cache(options.limits, own) {}

  Status start();
  void stop();
  Status open(Family& f);
  void send_round();
  void send_v4(const lan::detail::Interface& i);
  void send_v6(const lan::detail::Interface& i);
  void schedule_send();
  void answer_soon();
  void receive(Family& f);
  void handle(Family& f, std::size_t size);
  void note_trouble(const std::string& what);

  LocalDiscoveryOptions m_options;
  bep::DeviceId m_own;
  std::vector<std::string> m_addresses;
  OnAnnounce m_on_announce;
  base::Strand m_strand;
  Family m_v4;
  Family m_v6;
  asio::steady_timer m_send_timer;
  asio::steady_timer m_answer_timer;
  DiscoveryCache m_cache;
  std::string m_packet;
  bool m_running = false;
  bool m_answer_pending = false;
  Clock::time_point m_last_log{};
  bool m_logged_once = false;
  std::uint64_t m_unlogged = 0;
};

Status LocalDiscovery::Impl::start() {
  if (m_running) return {};
  // A new instance ID per start: receivers treat us as restarted and answer at once.
  m_packet = bep::encode_announce(bep::Announce{m_own, m_addresses, random_instance_id()});
  std::string errors;
  for (Family* f : {&m_v4, &m_v6}) {
    if (f->v6 ? !m_options.ipv6 : !m_options.ipv4) continue;
    if (auto s = open(*f); !s) {
      spdlog::warn("sync: local discovery: {}", s.error().message);
      errors += (errors.empty() ? "" : "; ") + s.error().message;
    }
  }
  if (!m_v4.socket.is_open() && !m_v6.socket.is_open())
    return fail(
        base::make_error_code(base::errc::unavailable),
        "local discovery has no socket: " + (errors.empty() ? std::string("both families off") : errors));
  m_running = true;
  for (Family* f : {&m_v4, &m_v6})
    if (f->socket.is_open()) receive(*f);
  send_round();
  schedule_send();
  return {};
}

void LocalDiscovery::Impl::stop() {
  m_running = false;
  boost::system::error_code ignored;
  m_send_timer.cancel();
  m_answer_timer.cancel();
  m_v4.socket.close(ignored);
  m_v6.socket.close(ignored);
  m_v6.joined.clear();
}

Status LocalDiscovery::Impl::open(Family& f) {
  return lan::detail::open_udp(f.socket, f.v6, m_options.port, [&](udp::socket& socket) {
    boost::system::error_code ec;
    if (f.v6) {
      socket.set_option(asio::ip::multicast::hops(1), ec);                         // never beyond the link
      if (!ec) socket.set_option(asio::ip::multicast::enable_loopback(true), ec);  // two nodes, one host
    } else {
      socket.set_option(udp::socket::broadcast(true), ec);
    }
    return ec;
  });
}

void LocalDiscovery::Impl::send_round() {
  if (!m_running) return;
  // Interfaces are listed again each round, so one that came up since is joined and sent on.
  const auto interfaces = lan::detail::multicast_interfaces();
  std::set<unsigned> present;
  for (const auto& i : interfaces) {
    if (m_v4.socket.is_open() && i.has_broadcast) send_v4(i);
    if (m_v6.socket.is_open() && i.has_ipv6) {
      present.insert(i.index);
      send_v6(i);
    }
  }
  // Gone interfaces are forgotten, so that they are joined again when they return.
  std::erase_if(m_v6.joined, [&](unsigned index) { return !present.count(index); });
}

void LocalDiscovery::Impl::send_v4(const lan::detail::Interface& i) {
  // To the interface's own broadcast address: 255.255.255.255 would need a default route (none in a
  // namespace or on an isolated LAN) and would leave on one interface only.
  const udp::endpoint to(asio::ip::address_v4(ntohl(i.broadcast.s_addr)), m_options.port);
  boost::system::error_code ec;
  m_v4.socket.send_to(asio::buffer(m_packet), to, 0, ec);
  if (ec) note_trouble("cannot broadcast on " + i.name + ": " + ec.message());
}

void LocalDiscovery::Impl::send_v6(const lan::detail::Interface& i) {
  const int fd = m_v6.socket.native_handle();
  if (!m_v6.joined.count(i.index)) {
    in6_addr group{};
    inet_pton(AF_INET6, GROUP_V6, &group);
    if (auto joined = lan::detail::join_v6(fd, group, i.index); !joined) {
      note_trouble("cannot join " + std::string(GROUP_V6) + " on " + i.name + ": " + joined.error().message);
      return;
    }
    m_v6.joined.insert(i.index);
  }
  const int index = static_cast<int>(i.index);
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) != 0) {
    note_trouble("cannot select " + i.name + " for IPv6 multicast: " + std::strerror(errno));
    return;
  }
  auto group = asio::ip::make_address_v6(GROUP_V6);
  group.scope_id(i.index);
  boost::system::error_code ec;
  m_v6.socket.send_to(asio::buffer(m_packet), udp::endpoint(group, m_options.port), 0, ec);
  if (ec) note_trouble("cannot multicast on " + i.name + ": " + ec.message());
}

void LocalDiscovery::Impl::schedule_send() {
  m_send_timer.expires_after(m_options.interval);
  m_send_timer.async_wait(
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
        if (ec || !self->m_running) return;
        self->send_round();
        self->schedule_send();
      }));
}

void LocalDiscovery::Impl::answer_soon() {
  // As Syncthing does: a device we had not heard of (or that restarted) learns about us now, not at
  // our next periodic announce. Deferred, not dropped, when answers come too fast.
  if (m_answer_pending) return;
  m_answer_pending = true;
  m_answer_timer.expires_at(m_cache.schedule_answer(Clock::now()));
  m_answer_timer.async_wait(
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec) {
        self->m_answer_pending = false;
        if (ec || !self->m_running) return;
        self->send_round();
      }));
}

void LocalDiscovery::Impl::receive(Family& f) {
  f.socket.async_receive_from(asio::buffer(f.buffer), f.from,
                              asio::bind_executor(m_strand, [self = shared_from_this(), &f](
                                                                boost::system::error_code ec, std::size_t n) {
                                if (!self->m_running || ec == asio::error::operation_aborted) return;
                                if (!ec) self->handle(f, n);
                                self->receive(f);
                              }));
}

void LocalDiscovery::Impl::handle(Family& f, std::size_t size) {
  // The source as text: link-local IPv6 with its interface ("fe80::1%eth0"), as Asio writes it.
  auto address = f.from.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  const std::string source = address.to_string();
  auto d = m_cache.consider(source, f.v6, std::string_view(f.buffer.data(), size), Clock::now());
  switch (d.verdict) {
    case DiscoveryCache::Verdict::own:
      return;
    case DiscoveryCache::Verdict::bad:
    case DiscoveryCache::Verdict::rate_limited:
      note_trouble("dropped a datagram from " + source + ": " + d.reason);
      return;
    case DiscoveryCache::Verdict::accepted:
      break;
  }
  if (d.is_new) {
    spdlog::debug("sync: local discovery: {} announced from {} ({} address(es) kith can dial)",
                  short_text(d.device), source, d.addresses.size());
    answer_soon();
  }
  if (!m_on_announce) return;
  try {
    m_on_announce(d.device, d.is_new);
  } catch (const std::exception& e) {  // a consumer's bug must not stop discovery
    spdlog::error("sync: local discovery: announce handler failed: {}", e.what());
  }
}

void LocalDiscovery::Impl::note_trouble(const std::string& what) {
  const auto now = Clock::now();
  if (m_logged_once && now - m_last_log < LOG_EVERY) {
    ++m_unlogged;
    return;
  }
  if (m_unlogged > 0)
    spdlog::info("sync: local discovery: {} (and {} more not logged)", what, m_unlogged);
  else
    spdlog::info("sync: local discovery: {}", what);
  m_logged_once = true;
  m_last_log = now;
  m_unlogged = 0;
}

LocalDiscovery::LocalDiscovery(base::Strand strand, LocalDiscoveryOptions options, bep::DeviceId own,
                               std::vector<std::string> addresses, OnAnnounce on_announce)
    : m_impl(std::make_shared<Impl>(strand, options, own, std::move(addresses), std::move(on_announce))) {}

LocalDiscovery::~LocalDiscovery() { m_impl->stop(); }

Status LocalDiscovery::start() { return m_impl->start(); }

void LocalDiscovery::stop() { m_impl->stop(); }

std::vector<std::string> LocalDiscovery::addresses(const bep::DeviceId& device) {
  return m_impl->m_cache.lookup(device, Clock::now());
}

}  // namespace kith::sync
