#include "net/turn_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "base/endpoint.hpp"
#include "base/terminal.hpp"
#include "net/detail.hpp"

namespace kith::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr int MAX_NONCE_RETRIES = 3;  // 438 Stale Nonce answered this often in a row is a broken server
constexpr std::size_t PERMISSION_BATCH = 16;  // XOR-PEER-ADDRESS attributes per CreatePermission
constexpr std::size_t MAX_CONNECT_IPS = 256;

const char* method_name(StunMethod m) {
  switch (m) {
    case StunMethod::binding:
      return "Binding";
    case StunMethod::allocate:
      return "Allocate";
    case StunMethod::refresh:
      return "Refresh";
    case StunMethod::create_permission:
      return "CreatePermission";
    case StunMethod::connect:
      return "Connect";
    case StunMethod::connection_bind:
      return "ConnectionBind";
    case StunMethod::connection_attempt:
      return "ConnectionAttempt";
  }
  return "an unknown method";
}

// The server's reason phrase is outside input: shown escaped and short.
std::string error_text(const StunMessage& msg) {
  const auto e = error_code(msg);
  if (!e) return "an error without a valid ERROR-CODE";
  return std::to_string(e->code) + " " + base::terminal_safe(std::string_view(e->reason).substr(0, 120));
}

int error_number(const StunMessage& msg) {
  const auto e = error_code(msg);
  return e ? e->code : 0;
}

std::string seconds(std::chrono::milliseconds d) { return std::to_string(d.count() / 1000) + " s"; }

// An IP from "ip" or "ip:port"/"[ip]:port", IPv4-mapped IPv6 as IPv4; nullopt when it is neither.
std::optional<asio::ip::address> peer_ip(const std::string& text) {
  boost::system::error_code ec;
  auto a = asio::ip::make_address(text, ec);
  if (ec) {
    auto hp = base::parse_ip_port(text);
    if (!hp) return std::nullopt;
    a = asio::ip::make_address(hp->host, ec);
    if (ec) return std::nullopt;
  }
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

// Hands a socket over on a strand of its own, so its new owner's handlers do not queue behind ours.
Result<tcp::socket> own_strand(asio::io_context& io, tcp::socket& from) {
  boost::system::error_code ec;
  const auto protocol = from.local_endpoint(ec).protocol();
  if (ec) return tl::unexpected(detail::unreachable("the data connection closed: " + ec.message()));
  tcp::socket out(asio::make_strand(io));
  out.assign(protocol, from.release(ec), ec);
  if (ec) return tl::unexpected(detail::unreachable("cannot take over the data connection: " + ec.message()));
  return out;
}

}  // namespace

Result<TurnServer> parse_turn_server(const std::string& text) {
  const std::string expected =
      "a TURN server is USER:PASSWORD@HOST[:PORT] (e.g. alice:secret@turn.example.org:3478)";
  const auto at = text.rfind('@');
  if (at == std::string::npos) return tl::unexpected(detail::bad(expected + ": '@' is missing"));
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon > at)
    return tl::unexpected(detail::bad(expected + ": the ':' between user and password is missing"));
  TurnServer s;
  s.user = text.substr(0, colon);
  s.password = text.substr(colon + 1, at - colon - 1);
  if (s.user.empty()) return tl::unexpected(detail::bad(expected + ": the user is empty"));
  if (s.password.empty()) return tl::unexpected(detail::bad(expected + ": the password is empty"));
  std::string host = text.substr(at + 1);
  if (host.empty()) return tl::unexpected(detail::bad(expected + ": the host is missing"));
  const bool has_port = host[0] == '[' ? host.back() != ']' : host.find(':') != std::string::npos;
  if (!has_port) host += ":3478";
  auto hp = base::parse_host_port(host);
  if (!hp) return tl::unexpected(detail::bad(expected + ": " + hp.error().message));
  s.host = hp->host;
  s.port = hp->port;
  return s;
}

// One TCP connection to the server that becomes a peer's pipe once ConnectionBind succeeds. Runs on
// the client's strand; handed over on a strand of its own.
struct TurnClient::DataConnection : std::enable_shared_from_this<DataConnection> {
  explicit DataConnection(std::shared_ptr<TurnClient> client)
      : owner(std::move(client)), socket(owner->m_strand), timer(owner->m_strand) {}
  std::shared_ptr<TurnClient> owner;
  tcp::socket socket;
  asio::steady_timer timer;
  std::string connection_id, peer, nonce, header, body;
  StunTransactionId transaction{};
  int tries = 0;
  std::function<void(Result<tcp::socket>)> done;

  void start(const tcp::endpoint& server) {
    timer.expires_after(owner->m_options.bind_timeout);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec)
        self->fail("the TURN server did not bind the data connection within " +
                   seconds(self->owner->m_options.bind_timeout));
    });
    socket.async_connect(server, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->fail("cannot open a data connection to the TURN server: " + ec.message());
      boost::system::error_code ignored;
      self->socket.set_option(tcp::no_delay(true), ignored);
      self->bind();
    });
  }

  void bind() {
    StunMessage m;
    m.method = StunMethod::connection_bind;
    m.cls = StunClass::request;
    m.transaction_id = transaction = random_transaction_id();
    m.add(stun_attr::CONNECTION_ID, connection_id);
    m.add(stun_attr::USERNAME, owner->m_server.user);
    m.add(stun_attr::REALM, owner->m_realm);
    m.add(stun_attr::NONCE, nonce);
    auto bytes = std::make_shared<std::string>(encode(m, owner->m_key));
    asio::async_write(socket, asio::buffer(*bytes),
                      [self = shared_from_this(), bytes](boost::system::error_code ec, std::size_t) {
                        if (ec) return self->fail("the data connection closed: " + ec.message());
                        self->read_answer();
                      });
  }

  // Exactly the answer and not a byte more: what follows it on this connection is the peer's.
  void read_answer() {
    header.assign(STUN_HEADER_SIZE, '\0');
    asio::async_read(
        socket, asio::buffer(header), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
          if (ec)
            return self->fail("the data connection closed before ConnectionBind was answered: " +
                              ec.message());
          const auto size = stun_frame_size(self->header);
          if (size == 0)
            return self->fail("the TURN server answered ConnectionBind with something that is not STUN");
          self->body.assign(size - STUN_HEADER_SIZE, '\0');
          asio::async_read(self->socket, asio::buffer(self->body),
                           [self](boost::system::error_code ec, std::size_t) {
                             if (ec) return self->fail("the data connection closed: " + ec.message());
                             self->answered(self->header + self->body);
                           });
        });
  }

  void answered(const std::string& raw) {
    auto msg = parse_stun(raw);
    if (!msg)
      return fail("the TURN server answered ConnectionBind with a malformed message: " + msg.error().message);
    if (msg->transaction_id != transaction || msg->method != StunMethod::connection_bind ||
        (msg->cls != StunClass::success && msg->cls != StunClass::error))
      return fail("the TURN server sent something other than the answer to ConnectionBind");
    if (msg->cls == StunClass::error) {
      const int code = error_number(*msg);
      // A server may keep a nonce per connection (coturn 4.6.1 takes the control connection's).
      const auto* fresh = msg->find(stun_attr::NONCE);
      if ((code == 438 || code == 401) && fresh && ++tries <= MAX_NONCE_RETRIES) {
        if (msg->find(stun_attr::MESSAGE_INTEGRITY) && !check_integrity(raw, owner->m_key))
          return fail("the TURN server's answer to ConnectionBind failed its integrity check");
        nonce = *fresh;
        return bind();
      }
      return fail("the TURN server refused ConnectionBind: " + error_text(*msg));
    }
    if (!check_integrity(raw, owner->m_key))
      return fail("the TURN server's answer to ConnectionBind failed its integrity check");
    auto out = own_strand(owner->m_io, socket);
    finish(std::move(out));
  }

  void fail(const std::string& why) {
    boost::system::error_code ignored;
    socket.close(ignored);
    finish(tl::unexpected(detail::unreachable(why)));
  }

  void finish(Result<tcp::socket> r) {
    if (!done) return;
    timer.cancel();
    auto callback = std::exchange(done, nullptr);
    owner->m_data_connections.erase(shared_from_this());
    callback(std::move(r));
  }
};

TurnClient::TurnClient(asio::io_context& io, TurnServer server, Callbacks callbacks, TurnOptions options)
    : m_io(io),
      m_server(std::move(server)),
      m_callbacks(std::move(callbacks)),
      m_options(options),
      m_strand(asio::make_strand(io)),
      m_resolver(m_strand),
      m_control(m_strand),
      m_retry_timer(m_strand),
      m_refresh_timer(m_strand),
      m_permission_timer(m_strand) {}

void TurnClient::start() {
  asio::post(m_strand, [self = shared_from_this()] {
    if (self->m_started || self->m_stopped) return;
    self->m_started = true;
    self->begin();
  });
}

void TurnClient::stop() {
  m_stop_requested = true;
  asio::post(m_strand, [self = shared_from_this()] {
    if (self->m_stopped) return;
    self->m_stopped = true;
    self->m_retry_timer.cancel();
    self->close_control("the TURN client stopped");
    auto data = std::move(self->m_data_connections);
    self->m_data_connections.clear();
    for (const auto& d : data) d->fail("the TURN client stopped");
    self->set_state("stopped", "");
  });
}

void TurnClient::permit(std::vector<std::string> ips, std::function<void(Status)> done) {
  asio::post(m_strand, [self = shared_from_this(), ips = std::move(ips), done = std::move(done)] {
    std::set<std::string> wanted;
    for (const auto& text : ips) {
      if (auto ip = peer_ip(text))
        wanted.insert(ip->to_string());
      else
        spdlog::debug("turn: not an IP to permit: {}", base::terminal_safe(text.substr(0, 80)));
    }
    std::set<std::string> added;
    std::set_difference(wanted.begin(), wanted.end(), self->m_permitted.begin(), self->m_permitted.end(),
                        std::inserter(added, added.end()));
    self->m_permitted = std::move(wanted);
    if (self->m_allocated && !added.empty()) return self->send_permissions(std::move(added), done);
    if (done) done(Status());
  });
}

void TurnClient::connect(std::string peer, std::function<void(Result<tcp::socket>)> done) {
  asio::post(m_strand, [self = shared_from_this(), peer = std::move(peer), done = std::move(done)]() mutable {
    self->connect_on_strand(std::move(peer), std::move(done));
  });
}

std::string TurnClient::relayed_address() const {
  std::lock_guard lock(m_status_mutex);
  return m_status_relayed;
}
std::string TurnClient::state() const {
  std::lock_guard lock(m_status_mutex);
  return m_status_state;
}
std::uint64_t TurnClient::incoming() const {
  std::lock_guard lock(m_status_mutex);
  return m_incoming;
}
std::uint64_t TurnClient::outgoing() const {
  std::lock_guard lock(m_status_mutex);
  return m_outgoing;
}

void TurnClient::set_state(std::string state, std::string relayed) {
  std::lock_guard lock(m_status_mutex);
  m_status_state = std::move(state);
  m_status_relayed = std::move(relayed);
}

// A fresh control connection and allocation.
void TurnClient::begin() {
  if (m_stopped) return;
  const auto generation = ++m_generation;
  set_state("connecting", "");
  auto timer = std::make_shared<asio::steady_timer>(m_strand);
  auto connected = std::make_shared<bool>(false);  // a cancel can come too late for a timer that fired
  timer->expires_after(m_options.connect_timeout);
  timer->async_wait([self = shared_from_this(), generation, connected](boost::system::error_code ec) {
    if (!ec && generation == self->m_generation && !*connected)
      self->lose("cannot reach the TURN server " +
                 base::join_host_port(self->m_server.host, self->m_server.port) + ": no answer within " +
                 seconds(self->m_options.connect_timeout));
  });
  m_resolver.async_resolve(
      m_server.host, std::to_string(m_server.port),
      [self = shared_from_this(), generation, timer, connected](boost::system::error_code ec,
                                                                tcp::resolver::results_type results) {
        if (generation != self->m_generation) return;
        const auto name = base::join_host_port(self->m_server.host, self->m_server.port);
        if (ec) return self->lose("cannot resolve the TURN server " + name + ": " + ec.message());
        asio::async_connect(
            self->m_control, results,
            [self, generation, timer, connected, name](boost::system::error_code ec,
                                                       const tcp::endpoint& server) {
              if (generation != self->m_generation) return;
              *connected = true;
              timer->cancel();
              if (ec) return self->lose("cannot connect to the TURN server " + name + ": " + ec.message());
              boost::system::error_code ignored;
              self->m_control.set_option(tcp::no_delay(true), ignored);
              self->m_server_endpoint = server;
              self->read_header(generation);
              self->allocate();
            });
      });
}

void TurnClient::close_control(const std::string& why) {
  ++m_generation;
  m_allocated = false;
  boost::system::error_code ignored;
  m_resolver.cancel();
  m_control.close(ignored);
  m_refresh_timer.cancel();
  m_permission_timer.cancel();
  m_write_queue.clear();
  m_writing = false;
  m_nonce.clear();  // a nonce belongs to the connection (the server's session)
  auto pending = std::move(m_pending);
  m_pending.clear();
  for (auto& [id, p] : pending) {
    p.timer->cancel();
    if (p.reply) p.reply(tl::unexpected(detail::unreachable(why)));
  }
}

void TurnClient::lose(const std::string& why) {
  // Failing the pending requests below calls their replies, which would report the loss again.
  if (m_stopped || m_losing) return;
  m_losing = true;
  spdlog::warn("turn {}: {}", base::join_host_port(m_server.host, m_server.port), why);
  close_control(why);
  m_losing = false;
  set_state("failed: " + why, "");
  m_backoff = m_backoff.count() == 0 ? m_options.first_retry : std::min(m_backoff * 2, m_options.max_retry);
  m_retry_timer.expires_after(m_backoff);
  m_retry_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->begin();
  });
  if (m_callbacks.on_lost && !m_stop_requested) m_callbacks.on_lost(why);
}

void TurnClient::read_header(std::uint64_t generation) {
  m_read_buffer.assign(STUN_HEADER_SIZE, '\0');
  asio::async_read(
      m_control, asio::buffer(m_read_buffer),
      [self = shared_from_this(), generation](boost::system::error_code ec, std::size_t) {
        if (generation != self->m_generation) return;
        if (ec) return self->lose("the connection to the TURN server closed: " + ec.message());
        const auto size = stun_frame_size(self->m_read_buffer);
        if (size == 0)
          return self->lose("the TURN server sent something that is not a STUN message (or one over 64 KiB)");
        self->m_read_buffer.resize(size);
        asio::async_read(self->m_control,
                         asio::buffer(self->m_read_buffer.data() + STUN_HEADER_SIZE, size - STUN_HEADER_SIZE),
                         [self, generation](boost::system::error_code ec, std::size_t) {
                           if (generation != self->m_generation) return;
                           if (ec)
                             return self->lose("the connection to the TURN server closed: " + ec.message());
                           const auto raw = std::move(self->m_read_buffer);
                           self->on_message(raw);
                           if (generation == self->m_generation) self->read_header(generation);
                         });
      });
}

void TurnClient::on_message(const std::string& raw) {
  auto msg = parse_stun(raw);
  if (!msg) return lose("the TURN server sent a malformed STUN message: " + msg.error().message);
  if (msg->cls == StunClass::indication || msg->cls == StunClass::request) {
    if (msg->method != StunMethod::connection_attempt) {
      spdlog::debug("turn: ignoring a {} {} from the server", method_name(msg->method),
                    msg->cls == StunClass::request ? "request" : "indication");
      return;
    }
    if (msg->find(stun_attr::MESSAGE_INTEGRITY) && !check_integrity(raw, m_key))
      return lose("a ConnectionAttempt from the TURN server failed its integrity check");
    const auto peer = xor_address(*msg, stun_attr::XOR_PEER_ADDRESS);
    const auto* id = msg->find(stun_attr::CONNECTION_ID);
    if (!peer || !id)
      return lose("the TURN server sent a ConnectionAttempt without a peer or a connection id");
    if (msg->cls == StunClass::request) {  // RFC 6062 drafts had it a request; answer it then
      StunMessage ok;
      ok.method = StunMethod::connection_attempt;
      ok.cls = StunClass::success;
      ok.transaction_id = msg->transaction_id;
      m_write_queue.push_back(encode(ok, m_key));
      write_next();
    }
    if (!m_allocated) return;
    open_data_connection(*id, peer->to_string(),
                         [self = shared_from_this(), peer = peer->to_string()](Result<tcp::socket> socket) {
                           if (!socket) {
                             spdlog::info("turn: a connection from {} was not delivered: {}", peer,
                                          socket.error().message);
                             return;
                           }
                           if (self->m_stop_requested || !self->m_callbacks.on_incoming) return;
                           {
                             std::lock_guard lock(self->m_status_mutex);
                             ++self->m_incoming;
                           }
                           self->m_callbacks.on_incoming(std::move(*socket), peer);
                         });
    return;
  }
  auto it = m_pending.find(msg->transaction_id);
  if (it == m_pending.end()) {
    spdlog::debug("turn: an answer to no request of ours ({})", method_name(msg->method));
    return;
  }
  if (msg->method != it->second.request.method)
    return lose(std::string("the TURN server answered ") + method_name(it->second.request.method) +
                " with a " + method_name(msg->method));
  Pending p = std::move(it->second);
  m_pending.erase(it);
  p.timer->cancel();
  // An answer to a request we signed must be signed too (an error may be unsigned: 401 and 438 have to
  // be, and coturn leaves others unsigned as well).
  const bool has_integrity = msg->find(stun_attr::MESSAGE_INTEGRITY) != nullptr;
  if (!p.key.empty() && (msg->cls == StunClass::success || has_integrity) && !check_integrity(raw, p.key))
    return lose(std::string("the TURN server's answer to ") + method_name(p.request.method) +
                " failed its integrity check");
  if (msg->cls == StunClass::success) return p.reply(std::move(*msg));

  const int code = error_number(*msg);
  const auto* realm = msg->find(stun_attr::REALM);
  const auto* nonce = msg->find(stun_attr::NONCE);
  if (code == 401 && p.key.empty() && realm && nonce) {
    // The first answer to an unsigned request: now we know the realm and its nonce.
    m_realm = *realm;
    m_nonce = *nonce;
    m_key = long_term_key(m_server.user, m_realm, m_server.password);
    return send(std::move(p.request), std::move(p.peers), std::move(p.reply), p.auth_tries + 1);
  }
  if (code == 438 && nonce && p.auth_tries < MAX_NONCE_RETRIES) {
    m_nonce = *nonce;
    if (realm && *realm != m_realm) {
      m_realm = *realm;
      m_key = long_term_key(m_server.user, m_realm, m_server.password);
    }
    return send(std::move(p.request), std::move(p.peers), std::move(p.reply), p.auth_tries + 1);
  }
  if (code == 401)
    return p.reply(
        tl::unexpected(detail::unreachable("authentication failed at the TURN server (" + error_text(*msg) +
                                           "): check the user and password of the TURN setting")));
  p.reply(tl::unexpected(detail::unreachable(std::string("the TURN server refused ") +
                                             method_name(p.request.method) + ": " + error_text(*msg))));
}

// Sends `msg` (a request) on the control connection, signed when the server has told us its realm.
void TurnClient::send(StunMessage msg, std::vector<StunAddress> peers, Reply reply, int auth_tries) {
  if (!m_control.is_open())
    return reply(tl::unexpected(detail::unreachable("no connection to the TURN server")));
  std::erase_if(msg.attributes, [](const StunAttribute& a) {
    return a.type == stun_attr::USERNAME || a.type == stun_attr::REALM || a.type == stun_attr::NONCE ||
           a.type == stun_attr::MESSAGE_INTEGRITY || a.type == stun_attr::FINGERPRINT;
  });
  msg.transaction_id = random_transaction_id();
  StunMessage wire = msg;
  for (const auto& peer : peers)
    wire.add(stun_attr::XOR_PEER_ADDRESS, xor_address_value(peer, msg.transaction_id));
  std::string key;
  if (!m_nonce.empty()) {
    wire.add(stun_attr::USERNAME, m_server.user);
    wire.add(stun_attr::REALM, m_realm);
    wire.add(stun_attr::NONCE, m_nonce);
    key = m_key;
  }
  m_write_queue.push_back(key.empty() ? encode(wire, std::nullopt) : encode(wire, key));
  auto timer = std::make_shared<asio::steady_timer>(m_strand);
  timer->expires_after(
      msg.method == StunMethod::connect
          ? std::max(m_options.request_timeout,
                     std::chrono::milliseconds(40'000))  // the server waits up to 30 s for the peer
          : m_options.request_timeout);
  const auto id = msg.transaction_id;
  const auto generation = m_generation;
  timer->async_wait(
      [self = shared_from_this(), id, generation, method = msg.method](boost::system::error_code ec) {
        if (ec || generation != self->m_generation || !self->m_pending.count(id)) return;
        self->lose(std::string("the TURN server did not answer ") + method_name(method) + " in time");
      });
  m_pending[id] = Pending{std::move(msg), std::move(peers), std::move(reply),
                          auth_tries,     std::move(key),   std::move(timer)};
  write_next();
}

void TurnClient::write_next() {
  if (m_writing || m_write_queue.empty()) return;
  auto data = std::make_shared<std::string>(std::move(m_write_queue.front()));
  m_write_queue.pop_front();
  m_writing = true;
  asio::async_write(m_control, asio::buffer(*data),
                    [self = shared_from_this(), data, generation = m_generation](boost::system::error_code ec,
                                                                                 std::size_t) {
                      if (generation != self->m_generation) return;
                      self->m_writing = false;
                      if (ec) return self->lose("the connection to the TURN server closed: " + ec.message());
                      self->write_next();
                    });
}

void TurnClient::allocate() {
  StunMessage m;
  m.method = StunMethod::allocate;
  add_requested_transport(m, STUN_TRANSPORT_TCP);
  send(std::move(m), {}, [self = shared_from_this()](Result<StunMessage> r) {
    if (!r) return self->lose("TURN allocation failed: " + r.error().message);
    const auto relayed = xor_address(*r, stun_attr::XOR_RELAYED_ADDRESS);
    if (!relayed) return self->lose("the TURN server's Allocate answer has no XOR-RELAYED-ADDRESS");
    self->m_allocated = true;
    self->m_relay_v4 = relayed->ip.is_v4();
    self->m_backoff = std::chrono::milliseconds(0);
    const auto text = relayed->to_string();
    self->set_state("allocated", text);
    spdlog::info("turn {}: allocated {}", base::join_host_port(self->m_server.host, self->m_server.port),
                 text);
    self->schedule_refresh(u32_attribute(*r, stun_attr::LIFETIME).value_or(600));
    std::set<std::string> all = self->m_permitted;
    all.insert(self->m_connect_ips.begin(), self->m_connect_ips.end());
    if (!all.empty()) self->send_permissions(std::move(all), nullptr);
    self->schedule_permission_refresh();
    if (self->m_callbacks.on_allocated && !self->m_stop_requested) self->m_callbacks.on_allocated(text);
  });
}

void TurnClient::schedule_refresh(std::uint32_t lifetime) {
  // A minute before it ends; halfway for short lifetimes.
  const auto after =
      std::chrono::seconds(lifetime > 120 ? lifetime - 60 : std::max<std::uint32_t>(lifetime / 2, 1));
  m_refresh_timer.expires_after(after);
  m_refresh_timer.async_wait(
      [self = shared_from_this(), generation = m_generation](boost::system::error_code ec) {
        if (ec || generation != self->m_generation) return;
        StunMessage m;
        m.method = StunMethod::refresh;
        self->send(std::move(m), {}, [self](Result<StunMessage> r) {
          if (!r) return self->lose("TURN refresh failed: " + r.error().message);
          self->schedule_refresh(u32_attribute(*r, stun_attr::LIFETIME).value_or(600));
        });
      });
}

void TurnClient::schedule_permission_refresh() {
  m_permission_timer.expires_after(m_options.permission_refresh);
  m_permission_timer.async_wait(
      [self = shared_from_this(), generation = m_generation](boost::system::error_code ec) {
        if (ec || generation != self->m_generation) return;
        std::set<std::string> all = self->m_permitted;
        all.insert(self->m_connect_ips.begin(), self->m_connect_ips.end());
        if (!all.empty()) self->send_permissions(std::move(all), nullptr);
        self->schedule_permission_refresh();
      });
}

// CreatePermission for `ips`, in batches; `done` (if any) once all have been answered.
void TurnClient::send_permissions(std::set<std::string> ips, std::function<void(Status)> done) {
  std::vector<std::vector<StunAddress>> batches;
  for (const auto& text : ips) {
    const auto ip = peer_ip(text);
    if (!ip) continue;
    if (ip->is_v4() != m_relay_v4) {  // the server would refuse the whole batch (443)
      spdlog::debug("turn: {} is of another address family than the relayed address", ip->to_string());
      continue;
    }
    if (batches.empty() || batches.back().size() >= PERMISSION_BATCH) batches.emplace_back();
    batches.back().push_back({*ip, 0});  // only the IP counts
  }
  if (batches.empty()) {
    if (done) done(tl::unexpected(detail::bad("no IP of the relayed address's family to permit")));
    return;
  }
  auto remaining = std::make_shared<std::size_t>(batches.size());
  auto failure = std::make_shared<std::optional<Error>>();
  for (auto& b : batches) {
    std::string list;
    for (const auto& a : b) list += (list.empty() ? "" : ", ") + a.ip.to_string();
    StunMessage m;
    m.method = StunMethod::create_permission;
    send(std::move(m), std::move(b), [remaining, failure, done, list](Result<StunMessage> r) {
      if (!r) {
        spdlog::warn("turn: permission for {} refused: {}", list, r.error().message);
        *failure = Error{r.error().code, "permission for " + list + " refused: " + r.error().message};
      }
      if (--*remaining == 0 && done) done(*failure ? Status(tl::unexpected(**failure)) : Status());
    });
  }
}

void TurnClient::connect_on_strand(std::string peer, std::function<void(Result<tcp::socket>)> done) {
  auto hp = base::parse_ip_port(peer);
  if (!hp) return done(tl::unexpected(detail::bad("not a peer address (ip:port): " + hp.error().message)));
  if (!m_allocated)
    return done(tl::unexpected(detail::unreachable("no TURN allocation to connect from (" + state() + ")")));
  const auto ip = peer_ip(hp->host);
  if (!ip) return done(tl::unexpected(detail::bad("not a peer address (ip:port)")));
  if (m_connect_ips.size() >= MAX_CONNECT_IPS && !m_connect_ips.count(ip->to_string()))
    m_connect_ips.erase(m_connect_ips.begin());
  m_connect_ips.insert(ip->to_string());
  const StunAddress target{*ip, hp->port};
  send_permissions({ip->to_string()}, [self = shared_from_this(), target,
                                       done = std::move(done)](Status s) mutable {
    if (!s)
      return done(tl::unexpected(
          detail::unreachable("TURN Connect to " + target.to_string() + ": " + s.error().message)));
    StunMessage m;
    m.method = StunMethod::connect;
    self->send(std::move(m), {target}, [self, target, done = std::move(done)](Result<StunMessage> r) mutable {
      if (!r)
        return done(tl::unexpected(
            detail::unreachable("TURN Connect to " + target.to_string() + " failed: " + r.error().message)));
      const auto* id = r->find(stun_attr::CONNECTION_ID);
      if (!id)
        return done(
            tl::unexpected(detail::unreachable("the TURN server's Connect answer has no CONNECTION-ID")));
      self->open_data_connection(*id, target.to_string(),
                                 [self, done = std::move(done)](Result<tcp::socket> s) {
                                   if (s) {
                                     std::lock_guard lock(self->m_status_mutex);
                                     ++self->m_outgoing;
                                   }
                                   done(std::move(s));
                                 });
    });
  });
}

void TurnClient::open_data_connection(std::string connection_id, std::string peer,
                                      std::function<void(Result<tcp::socket>)> done) {
  auto d = std::make_shared<DataConnection>(shared_from_this());
  d->connection_id = std::move(connection_id);
  d->peer = std::move(peer);
  d->nonce = m_nonce;
  d->done = std::move(done);
  m_data_connections.insert(d);
  d->start(m_server_endpoint);
}

}  // namespace kith::net
