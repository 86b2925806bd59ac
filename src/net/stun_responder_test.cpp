// The STUN Binding responder on loopback (127.0.0.1, and ::1 where the host has IPv6): answers, the
// datagrams it must not answer, dual stack, close.
#include "net/stun_responder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "base/io_testing.hpp"
#include "net/stun.hpp"

using namespace kith;
using namespace kith::net;
using kith::base::testing::idle;
using kith::base::testing::run_until;
namespace asio = boost::asio;
using udp = asio::ip::udp;

namespace {

bool has_ipv6_loopback() {
  asio::io_context io;
  udp::socket s(io);
  boost::system::error_code ec;
  s.open(udp::v6(), ec);
  if (!ec) s.bind({asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

std::string request(StunMethod method, StunClass cls, const StunTransactionId& id) {
  StunMessage m;
  m.method = method;
  m.cls = cls;
  m.transaction_id = id;
  return encode(m, std::nullopt);
}

std::string binding_request(const StunTransactionId& id) {
  return request(StunMethod::binding, StunClass::request, id);
}

// A client socket on the test's io_context, bound to `ip` (any free port).
struct Client {
  Client(asio::io_context& io, const std::string& ip, std::uint16_t server_port)
      : io(io),
        socket(io, {asio::ip::make_address(ip), 0}),
        server(asio::ip::make_address(ip), server_port) {}

  void send(const std::string& bytes) { socket.send_to(asio::buffer(bytes), server); }

  // The next datagram, or nullopt when none comes within 10 s.
  std::optional<std::string> receive() {
    std::array<char, 2048> buffer{};
    udp::endpoint from;
    std::optional<std::size_t> got;
    socket.async_receive_from(asio::buffer(buffer), from,
                              [&](boost::system::error_code ec, std::size_t n) { got = ec ? 0 : n; });
    if (!run_until(io, [&] { return got.has_value(); })) {
      socket.cancel();
      run_until(io, [&] { return got.has_value(); });
      return std::nullopt;
    }
    return std::string(buffer.data(), *got);
  }

  // Whether a datagram waits unread: loopback delivers synchronously, so an answer the responder sent
  // before counting a datagram is already here.
  bool pending() { return socket.available() > 0; }

  asio::io_context& io;
  udp::socket socket;
  udp::endpoint server;
};

// Sends a Binding request and checks the answer: its transaction, and the client's own address.
void expect_answered(Client& client, const std::string& expected_ip) {
  const auto id = random_transaction_id();
  const auto bytes = binding_request(id);
  client.send(bytes);
  const auto raw = client.receive();
  ASSERT_TRUE(raw) << "no answer";
  EXPECT_LE(raw->size(), bytes.size() + 60);  // no amplification
  auto answer = parse_stun(*raw);             // strict: checks the FINGERPRINT too
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->cls, StunClass::success);
  EXPECT_EQ(answer->method, StunMethod::binding);
  EXPECT_EQ(answer->transaction_id, id);
  const auto mapped = xor_address(*answer, stun_attr::XOR_MAPPED_ADDRESS);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->ip, asio::ip::make_address(expected_ip));
  EXPECT_EQ(mapped->port, client.socket.local_endpoint().port());
  ASSERT_TRUE(answer->find(stun_attr::SOFTWARE));
  EXPECT_EQ(*answer->find(stun_attr::SOFTWARE), "kith");
  ASSERT_FALSE(answer->attributes.empty());
  EXPECT_EQ(answer->attributes.back().type, stun_attr::FINGERPRINT);
  EXPECT_FALSE(answer->find(stun_attr::MESSAGE_INTEGRITY));
}

}  // namespace

TEST(StunResponder, AnswersABindingRequestWithTheSendersAddress) {
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  ASSERT_NE(*port, 0);
  Client client(io, "127.0.0.1", *port);
  expect_answered(client, "127.0.0.1");
  EXPECT_EQ(responder.stats().answered, 1u);
  EXPECT_EQ(responder.stats().ignored, 0u);
}

TEST(StunResponder, AnswersOverIpv6) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("[::1]:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "::1", *port);
  expect_answered(client, "::1");
}

TEST(StunResponder, DualStackAnswersAnIpv4ClientWithItsIpv4Address) {
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("[::]:0");  // without IPv6: 0.0.0.0, which answers the same
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "127.0.0.1", *port);
  expect_answered(client, "127.0.0.1");  // not ::ffff:127.0.0.1
}

TEST(StunResponder, AnswersARequestWithIntegrityAndFingerprint) {
  // We check no credentials, but a client that signs its requests still learns its address.
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "127.0.0.1", *port);
  StunMessage m;
  m.transaction_id = random_transaction_id();
  m.add(stun_attr::USERNAME, "someone");
  client.send(encode(m, std::string("key")));
  const auto raw = client.receive();
  ASSERT_TRUE(raw);
  auto answer = parse_stun(*raw);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->transaction_id, m.transaction_id);
}

// libnice discovers its server-reflexive address with RFC 3489 requests (no magic cookie).
TEST(StunResponder, AnswersAClassicRfc3489RequestWithMappedAddress) {
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "127.0.0.1", *port);
  // What libnice 0.1.21 sent: Binding request, no attributes, a 16-byte transaction id.
  const std::string classic(
      "\x00\x01\x00\x00\x54\xf9\xca\x15\x48\xfe\x0d\x23\x3d\x13\xc9\x68\x74\xf1\x18\x5d", 20);
  client.send(classic);
  const auto raw = client.receive();
  ASSERT_TRUE(raw) << "no answer";
  ASSERT_EQ(raw->size(), 32u);
  EXPECT_EQ(raw->substr(0, 2), std::string("\x01\x01", 2));           // Binding success
  EXPECT_EQ(raw->substr(2, 2), std::string("\x00\x0c", 2));           // one 12-byte attribute
  EXPECT_EQ(raw->substr(4, 16), classic.substr(4, 16));               // the id, echoed
  EXPECT_EQ(raw->substr(20, 4), std::string("\x00\x01\x00\x08", 4));  // MAPPED-ADDRESS
  const auto mapped = parse_address(raw->substr(24));
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->ip, asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(mapped->port, client.socket.local_endpoint().port());
  // A classic request whose length field lies is not answered.
  auto lying = classic;
  lying[3] = 8;
  client.send(lying);
  ASSERT_TRUE(run_until(io, [&] { return responder.stats().ignored == 1; }));
  EXPECT_FALSE(client.pending());
}

TEST(StunResponder, IgnoresEverythingButBindingRequests) {
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "127.0.0.1", *port);
  const auto id = random_transaction_id();
  auto bad_fingerprint = encode(StunMessage{StunMethod::binding, StunClass::request, id, {}}, "key");
  bad_fingerprint.back() = static_cast<char>(bad_fingerprint.back() ^ 1);
  const std::string datagrams[] = {
      "GET / HTTP/1.0\r\n\r\n",
      std::string(20, '\0'),                                    // no cookie, and no Binding request
      binding_request(id).substr(0, 19),                        // shorter than a header
      request(StunMethod::binding, StunClass::indication, id),  // a keepalive: never answered
      request(StunMethod::binding, StunClass::success, id),     // answering it could ping-pong
      request(StunMethod::binding, StunClass::error, id),
      request(StunMethod::allocate, StunClass::request, id),  // we are no TURN server
      bad_fingerprint,
  };
  for (const auto& d : datagrams) client.send(d);
  const auto count = std::size(datagrams);
  ASSERT_TRUE(run_until(io, [&] { return responder.stats().ignored == count; }))
      << responder.stats().ignored << " of " << count << " ignored";
  EXPECT_FALSE(client.pending());
  EXPECT_EQ(responder.stats().answered, 0u);
  // Still answering; and since loopback keeps the order, the first datagram back is this answer.
  expect_answered(client, "127.0.0.1");
}

TEST(StunResponder, CloseStopsIt) {
  asio::io_context io;
  StunResponder responder(io);
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  Client client(io, "127.0.0.1", *port);
  expect_answered(client, "127.0.0.1");
  responder.close();
  idle(io, std::chrono::milliseconds(50));  // the socket closes on the strand
  client.send(binding_request(random_transaction_id()));
  idle(io, std::chrono::milliseconds(100));
  EXPECT_FALSE(client.pending());
  EXPECT_EQ(responder.stats().answered, 1u);
  // The port is free again.
  StunResponder again(io);
  auto reopened = again.open("127.0.0.1:" + std::to_string(*port));
  EXPECT_TRUE(reopened) << reopened.error().message;
}

TEST(StunResponder, RefusesBadAddressesATakenPortAndASecondOpen) {
  asio::io_context io;
  StunResponder responder(io);
  EXPECT_FALSE(responder.open("not an address"));
  EXPECT_FALSE(responder.open("localhost:3478"));  // a name is never resolved
  auto port = responder.open("127.0.0.1:0");
  ASSERT_TRUE(port) << port.error().message;
  EXPECT_FALSE(responder.open("127.0.0.1:0"));
  StunResponder other(io);
  EXPECT_FALSE(other.open("127.0.0.1:" + std::to_string(*port)));
}
