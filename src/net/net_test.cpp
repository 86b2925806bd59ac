#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>

#include "crypto/tls.hpp"
#include "net/channel.hpp"

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
