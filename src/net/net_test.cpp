#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "crypto/tls.hpp"
#include "net/channel.hpp"
#include "net/nat.hpp"
#include "net/relay.hpp"

using namespace kith;
namespace asio = boost::asio;

namespace {

// Runs the io_context until `done()` holds; false when it still does not after `limit` (or the context
// ran out of work first), so a test that waits for something that never happens fails instead of hanging.
[[nodiscard]] bool run_until(asio::io_context& io, const std::function<bool()>& done,
                             std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io.restart();  // run_one_for leaves the context stopped when it runs out of work
    io.run_one_for(deadline - now);
  }
  return true;
}

// A person with one device, and that device's TLS contexts.
struct Node {
  crypto::SigningKey user = std::move(*crypto::SigningKey::generate());
  crypto::SigningKey device = std::move(*crypto::SigningKey::generate());
  identity::DeviceCert cert = identity::certify_device(user, device.public_key());
  std::shared_ptr<asio::ssl::context> server =
      *crypto::make_channel_context(device, identity::encode_device_cert(cert), crypto::TlsRole::server);
  std::shared_ptr<asio::ssl::context> client =
      *crypto::make_channel_context(device, identity::encode_device_cert(cert), crypto::TlsRole::client);
};

Result<std::shared_ptr<net::Channel>> dial(asio::io_context& io, Node& from, std::uint16_t port,
                                           std::optional<crypto::PublicKey> expected) {
  std::optional<Result<std::shared_ptr<net::Channel>>> out;
  net::async_dial(io, from.client, "127.0.0.1:" + std::to_string(port), expected, {},
                  [&](Result<std::shared_ptr<net::Channel>> r) { out = std::move(r); });
  if (!run_until(io, [&] { return out.has_value(); }))
    return fail(base::make_error_code(base::errc::unavailable), "the dial did not finish within 10 s");
  return std::move(*out);
}

}  // namespace

TEST(Channel, HandshakePinsKeysAndCarriesFrames) {
  asio::io_context io;
  Node a, b;
  std::shared_ptr<net::Channel> accepted;
  std::vector<std::string> got;
  auto listener = net::Listener::open(io, b.server, "127.0.0.1:0", {}, [&](std::shared_ptr<net::Channel> c) {
    accepted = c;
    c->start([&](wire::pb::Frame f) { got.push_back(f.hello().name()); }, [](const std::string&) {});
  });
  ASSERT_TRUE(listener) << listener.error().message;

  auto ch = dial(io, a, (*listener)->port(), b.user.public_key());
  ASSERT_TRUE(ch) << ch.error().message;
  EXPECT_EQ((*ch)->peer().user, b.user.public_key());
  EXPECT_EQ((*ch)->peer().device, b.device.public_key());
  std::string closed;
  (*ch)->start([](wire::pb::Frame) {}, [&](const std::string& why) { closed = why; });
  for (const char* name : {"one", "two"}) {
    wire::pb::Frame f;
    f.mutable_hello()->set_name(name);
    (*ch)->send(f);
  }
  ASSERT_TRUE(run_until(io, [&] { return got.size() >= 2; })) << "frames received: " << got.size();
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->peer().user, a.user.public_key());  // the server learns the client's key too
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));

  accepted->close("test");
  ASSERT_TRUE(run_until(io, [&] { return !closed.empty(); })) << "the client never saw the close";
}

TEST(Channel, RefusesAnotherKeyThanExpected) {
  asio::io_context io;
  Node a, b, c;
  auto listener = net::Listener::open(io, b.server, "127.0.0.1:0", {}, [](std::shared_ptr<net::Channel>) {});
  ASSERT_TRUE(listener);
  auto ch = dial(io, a, (*listener)->port(), c.user.public_key());  // we wanted c; b answers
  ASSERT_FALSE(ch);
  EXPECT_NE(ch.error().message.find("another person"), std::string::npos);
}

TEST(Channel, RefusesPlainTlsWithoutKithCertificate) {
  // A TLS 1.3 client with its own self-signed certificate but no device certificate, offering kith/1:
  // the handshake may finish, but the listener refuses it and never hands out a channel.
  asio::io_context io;
  Node b;
  int channels = 0;
  auto listener = net::Listener::open(io, b.server, "127.0.0.1:0", {},
                                      [&](std::shared_ptr<net::Channel>) { ++channels; });
  ASSERT_TRUE(listener);
  Node stranger;
  auto ctx =
      *crypto::make_channel_context(stranger.device, "not a device certificate", crypto::TlsRole::client);
  net::Channel::Stream s(io, *ctx);
  s.lowest_layer().connect({asio::ip::make_address("127.0.0.1"), (*listener)->port()});
  bool handshake_done = false;
  s.async_handshake(asio::ssl::stream_base::client,
                    [&](boost::system::error_code) { handshake_done = true; });
  ASSERT_TRUE(run_until(io, [&] { return (*listener)->refused() > 0; })) << "the listener never refused it";
  EXPECT_EQ(channels, 0);
  // The client's side ends too (refused, not left hanging in the handshake).
  EXPECT_TRUE(run_until(io, [&] { return handshake_done; }));
  EXPECT_EQ(channels, 0);
}

TEST(Channel, OversizedFrameClosesTheChannel) {
  asio::io_context io;
  Node a, b;
  std::string why;
  std::shared_ptr<net::Channel> accepted;
  auto listener = net::Listener::open(io, b.server, "127.0.0.1:0", {}, [&](std::shared_ptr<net::Channel> c) {
    accepted = c;
    c->start([](wire::pb::Frame) {}, [&](const std::string& w) { why = w; });
  });
  ASSERT_TRUE(listener);
  auto ch = dial(io, a, (*listener)->port(), std::nullopt);
  ASSERT_TRUE(ch);
  (*ch)->start([](wire::pb::Frame) {}, [](const std::string&) {});
  wire::pb::Frame f;
  f.mutable_hello()->set_name(std::string(wire::MAX_FRAME + 10, 'x'));
  (*ch)->send(f);
  ASSERT_TRUE(run_until(io, [&] { return !why.empty(); })) << "the server kept the channel open";
  EXPECT_NE(why.find("over the limit"), std::string::npos) << why;
}

TEST(Channel, SilentPeerTimesOut) {
  asio::io_context io;
  Node a, b;
  net::ChannelOptions quick;
  quick.ping_interval = std::chrono::milliseconds(50);
  quick.idle_timeout = std::chrono::milliseconds(200);
  std::string why;
  auto listener =
      net::Listener::open(io, b.server, "127.0.0.1:0", quick, [&](std::shared_ptr<net::Channel> c) {
        c->start([](wire::pb::Frame) {}, [&](const std::string& w) { why = w; });
      });
  ASSERT_TRUE(listener);
  auto ch = dial(io, a, (*listener)->port(), std::nullopt);
  ASSERT_TRUE(ch);
  // The client never starts reading, so it never answers pings: the server gives up.
  ASSERT_TRUE(run_until(io, [&] { return !why.empty(); })) << "the server never gave up on the silent peer";
  EXPECT_NE(why.find("silent"), std::string::npos) << why;
}

// --- relays (relay.hpp) ----------------------------------------------------------------------------

namespace {

// A relay as the messenger runs one: the listener hands preambles over, the first half of a token
// waits for the second, then both are spliced.
struct TestRelay {
  asio::io_context& io;
  Node node;
  std::map<net::RelayToken, asio::ip::tcp::socket> waiting;
  std::vector<net::SpliceStats> finished;
  std::unique_ptr<net::Listener> listener;
  explicit TestRelay(asio::io_context& io) : io(io) {
    listener = std::move(*net::Listener::open(
        io, node.server, "127.0.0.1:0", {}, [](std::shared_ptr<net::Channel>) {},
        [this](net::RelayToken token, asio::ip::tcp::socket s) {
          asio::post(this->io, [this, token, s = std::make_shared<asio::ip::tcp::socket>(std::move(s))] {
            auto it = waiting.find(token);
            if (it == waiting.end()) return void(waiting.emplace(token, std::move(*s)));
            net::splice(this->io, std::move(it->second), std::move(*s), 0,
                        [this](net::SpliceStats st) { finished.push_back(st); });
            waiting.erase(it);
          });
        }));
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(listener->port()); }
};

}  // namespace

TEST(Relay, PreambleRoundTripAndRejects) {
  net::RelayToken t{};
  t[0] = 7;
  t[15] = 9;
  net::RelayToken back{};
  ASSERT_TRUE(net::parse_relay_preamble(net::relay_preamble(t), back));
  EXPECT_EQ(back, t);
  EXPECT_FALSE(net::parse_relay_preamble("KITHRLY2" + std::string(16, 'x'), back));
  EXPECT_FALSE(net::parse_relay_preamble("KITHRLY1short", back));
}

TEST(Relay, TwoEndsRunTheirTlsChannelThroughTheSplice) {
  asio::io_context io;
  Node a, b;
  TestRelay relay(io);
  net::RelayToken token{};
  token[3] = 42;
  std::optional<Result<std::shared_ptr<net::Channel>>> at_a, at_b;
  net::async_dial(
      io, a.client, relay.address(), b.user.public_key(), {},
      [&](Result<std::shared_ptr<net::Channel>> r) { at_a = std::move(r); },
      net::DialOptions{.relay_token = token});
  net::async_dial(
      io, b.server, relay.address(), a.user.public_key(), {},
      [&](Result<std::shared_ptr<net::Channel>> r) { at_b = std::move(r); },
      net::DialOptions{.relay_token = token, .tls_server = true});
  ASSERT_TRUE(run_until(io, [&] { return at_a && at_b; }));
  ASSERT_TRUE(*at_a) << at_a->error().message;
  ASSERT_TRUE(*at_b) << at_b->error().message;
  EXPECT_TRUE((**at_a)->relayed());
  EXPECT_FALSE((**at_a)->incoming());
  EXPECT_TRUE((**at_b)->incoming());
  EXPECT_EQ((**at_a)->peer().user, b.user.public_key());  // the ends see each other, not the relay
  EXPECT_EQ((**at_b)->peer().user, a.user.public_key());
  std::vector<std::string> got;
  (**at_b)->start([&](wire::pb::Frame f) { got.push_back(f.hello().name()); }, [](const std::string&) {});
  (**at_a)->start([](wire::pb::Frame) {}, [](const std::string&) {});
  wire::pb::Frame f;
  f.mutable_hello()->set_name("through the relay");
  (**at_a)->send(f);
  ASSERT_TRUE(run_until(io, [&] { return !got.empty(); }));
  EXPECT_EQ(got[0], "through the relay");
  (**at_a)->close("done");
  ASSERT_TRUE(run_until(io, [&] { return !relay.finished.empty(); }));
  EXPECT_GT(relay.finished[0].bytes, 0u);
}

TEST(Relay, AnEndExpectingAnotherPersonIsRefused) {
  asio::io_context io;
  Node a, b, mallory;
  TestRelay relay(io);
  net::RelayToken token{};
  std::optional<Result<std::shared_ptr<net::Channel>>> at_a, at_m;
  net::async_dial(
      io, a.client, relay.address(), b.user.public_key(), {},
      [&](Result<std::shared_ptr<net::Channel>> r) { at_a = std::move(r); },
      net::DialOptions{.relay_token = token});
  net::async_dial(
      io, mallory.server, relay.address(), std::nullopt, {},
      [&](Result<std::shared_ptr<net::Channel>> r) { at_m = std::move(r); },
      net::DialOptions{.relay_token = token, .tls_server = true});
  ASSERT_TRUE(run_until(io, [&] { return at_a.has_value(); }));
  ASSERT_FALSE(*at_a);  // the relay splices, but TLS still pins who is at the other end
  EXPECT_NE(at_a->error().message.find("another person's key"), std::string::npos) << at_a->error().message;
}

TEST(Relay, ListenerWithoutRelayHandlerClosesPreambles) {
  asio::io_context io;
  Node a, b;
  auto listener = net::Listener::open(io, b.server, "127.0.0.1:0", {}, [](std::shared_ptr<net::Channel>) {});
  ASSERT_TRUE(listener);
  std::optional<Result<std::shared_ptr<net::Channel>>> out;
  net::async_dial(
      io, a.client, "127.0.0.1:" + std::to_string((*listener)->port()), std::nullopt, {},
      [&](Result<std::shared_ptr<net::Channel>> r) { out = std::move(r); },
      net::DialOptions{.relay_token = net::RelayToken{}});
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  EXPECT_FALSE(*out);
  ASSERT_TRUE(run_until(io, [&] { return (*listener)->refused() == 1; }));
}

// --- dialling from the listener's port ---------------------------------------------------------------

TEST(Dial, LeavesFromTheListenersPortAndFallsBackWhenTaken) {
  asio::io_context io;
  Node a, b;
  auto mine = net::Listener::open(io, a.server, "127.0.0.1:0", {}, [](std::shared_ptr<net::Channel>) {});
  ASSERT_TRUE(mine);
  std::vector<std::shared_ptr<net::Channel>> at_b;
  auto theirs = net::Listener::open(io, b.server, "127.0.0.1:0", {},
                                    [&](std::shared_ptr<net::Channel> c) { at_b.push_back(c); });
  ASSERT_TRUE(theirs);
  const auto port = (*mine)->port();
  std::vector<Result<std::shared_ptr<net::Channel>>> out;
  for (int i = 0; i < 2; ++i)  // the second has the same 4-tuple taken: it must still connect
    net::async_dial(
        io, a.client, "127.0.0.1:" + std::to_string((*theirs)->port()), std::nullopt, {},
        [&](Result<std::shared_ptr<net::Channel>> r) { out.push_back(std::move(r)); },
        net::DialOptions{.source_port = port});
  ASSERT_TRUE(run_until(io, [&] { return out.size() == 2 && at_b.size() == 2; }));
  ASSERT_TRUE(out[0] && out[1]);
  const auto local_ports = std::set<std::string>{(*out[0])->local_address(), (*out[1])->local_address()};
  EXPECT_EQ(local_ports.count("127.0.0.1:" + std::to_string(port)), 1u);
  EXPECT_EQ(local_ports.size(), 2u);
}

// A connection someone else opened (a TURN data connection) gets the same handshake and identity check
// as a dial, and the channel says how it travels.
TEST(Secure, AConnectionOpenedElsewhereBecomesAVerifiedChannel) {
  asio::io_context io;
  Node a, b, mallory;
  auto pair = [&] {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket left(io), right(io);
    left.connect(acceptor.local_endpoint());
    acceptor.accept(right);
    return std::make_pair(std::move(left), std::move(right));
  };
  std::optional<Result<std::shared_ptr<net::Channel>>> client, server;
  auto [left, right] = pair();
  net::async_secure(io, a.client, std::move(left), b.user.public_key(), {}, false, net::Path::turn,
                    [&](Result<std::shared_ptr<net::Channel>> r) { client = std::move(r); });
  net::async_secure(io, b.server, std::move(right), std::nullopt, {}, true, net::Path::turn,
                    [&](Result<std::shared_ptr<net::Channel>> r) { server = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return client && server; }));
  ASSERT_TRUE(*client) << client->error().message;
  ASSERT_TRUE(*server) << server->error().message;
  EXPECT_EQ((**client)->peer().user, b.user.public_key());
  EXPECT_EQ((**server)->peer().user, a.user.public_key());
  EXPECT_EQ((**client)->path(), net::Path::turn);
  EXPECT_STREQ(net::to_string((**server)->path()), "turn");
  EXPECT_TRUE((**server)->relayed()) << "its remote address is the TURN server's";
  EXPECT_TRUE((**server)->incoming());

  // Someone else than expected at the other end is refused.
  client.reset();
  server.reset();
  auto [l2, r2] = pair();
  net::async_secure(io, a.client, std::move(l2), b.user.public_key(), {}, false, net::Path::turn,
                    [&](Result<std::shared_ptr<net::Channel>> r) { client = std::move(r); });
  net::async_secure(io, mallory.server, std::move(r2), std::nullopt, {}, true, net::Path::turn,
                    [&](Result<std::shared_ptr<net::Channel>> r) { server = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return client.has_value(); }));
  ASSERT_FALSE(*client);
  EXPECT_NE(client->error().message.find("another person"), std::string::npos) << client->error().message;
}

TEST(Listener, ASecondListenerOnTheSamePortIsRefused) {
  asio::io_context io;
  Node a;
  auto first = net::Listener::open(io, a.server, "127.0.0.1:0", {}, [](std::shared_ptr<net::Channel>) {});
  ASSERT_TRUE(first);
  auto second = net::Listener::open(io, a.server, "127.0.0.1:" + std::to_string((*first)->port()), {},
                                    [](std::shared_ptr<net::Channel>) {});
  EXPECT_FALSE(second);  // SO_REUSEPORT must not let two nodes share a port silently
}

// --- NAT classification (nat.hpp) --------------------------------------------------------------------

TEST(Nat, PrivateAddressesAreNotThePublicInternet) {
  for (const char* ip : {"10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1",
                         "::1", "fe80::1", "fd00::1", "::", "not an ip"})
    EXPECT_TRUE(net::is_private_ip(ip)) << ip;
  for (const char* ip : {"198.18.0.1", "8.8.8.8", "2001:db8::1", "172.32.0.1", "100.128.0.1"})
    EXPECT_FALSE(net::is_private_ip(ip)) << ip;
}

TEST(Nat, Classification) {
  using net::NatType;
  auto classify = [](std::vector<net::Observation> o, std::vector<std::string> own = {"10.0.0.5"}) {
    return net::classify_nat(o, own, 6882);
  };
  EXPECT_EQ(classify({}).type, NatType::unknown);
  // One public observer: its public IP is known, the mapping behaviour is not.
  auto one = classify({{"p1", "10.0.0.5:6882", "198.18.0.1:6882"}});
  EXPECT_EQ(one.type, NatType::unknown);
  EXPECT_EQ(one.public_ips, std::vector<std::string>{"198.18.0.1"});
  EXPECT_TRUE(one.public_addresses.empty());
  EXPECT_EQ(one.listen_mappings, std::vector<std::string>{"198.18.0.1:6882"});  // worth a punch
  // Two observers agree on the listen port's mapping: endpoint-independent, worth publishing.
  auto cone =
      classify({{"p1", "10.0.0.5:6882", "198.18.0.1:6882"}, {"p2", "10.0.0.5:6882", "198.18.0.1:6882"}});
  EXPECT_EQ(cone.type, NatType::endpoint_independent);
  EXPECT_EQ(cone.public_addresses, std::vector<std::string>{"198.18.0.1:6882"});
  EXPECT_EQ(cone.observers, 2);
  // They disagree: endpoint-dependent, nothing to publish.
  auto sym =
      classify({{"p1", "10.0.0.5:6882", "198.18.0.1:4001"}, {"p2", "10.0.0.5:6882", "198.18.0.1:4002"}});
  EXPECT_EQ(sym.type, NatType::endpoint_dependent);
  EXPECT_TRUE(sym.public_addresses.empty());
  // A peer sees one of our own addresses: no NAT; our listener is the public address.
  auto open = classify({{"p1", "198.18.0.11:40000", "198.18.0.11:40000"}}, {"198.18.0.11"});
  EXPECT_EQ(open.type, NatType::none);
  EXPECT_EQ(open.public_addresses, std::vector<std::string>{"198.18.0.11:6882"});
  // Observers on the LAN say nothing about the Internet; an observer votes once (its newest).
  auto lan =
      classify({{"p1", "10.0.0.5:6882", "10.0.0.5:6882"}, {"p2", "10.0.0.5:6882", "192.168.0.9:6882"}});
  EXPECT_EQ(lan.type, NatType::unknown);
  EXPECT_EQ(lan.observers, 0);
  auto again = classify({{"p1", "10.0.0.5:6882", "198.18.0.1:1"},
                         {"p1", "10.0.0.5:6882", "198.18.0.1:6882"},
                         {"p2", "10.0.0.5:6882", "198.18.0.1:6882"}});
  EXPECT_EQ(again.type, NatType::endpoint_independent);
  // Garbage from a peer is skipped, not trusted.
  EXPECT_EQ(classify({{"p1", "10.0.0.5:6882", "\x1b[31m"}, {"p2", "x", "198.18.0.1:1"}}).observers, 0);
}
