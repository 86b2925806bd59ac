// The STUN codec (round trips, integrity, the RFC 5769 sample responses) and the TURN client against a
// real coturn on 127.0.0.1 started by each test (only loopback is used).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "base/endpoint.hpp"
#include "base/io_testing.hpp"
#include "net/stun.hpp"
#include "net/turn_client.hpp"

using namespace kith;
using namespace kith::net;
using kith::base::testing::run_until;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

extern char** environ;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

const StunTransactionId RFC5769_ID = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
const char* const RFC5769_PASSWORD = "VOkJxbRl1RmTxUk/WvJxBt";  // short-term: the key is the password

}  // namespace

TEST(Stun, MessageTypeInterleavesMethodAndClass) {
  StunMessage m;
  m.method = StunMethod::allocate;
  m.cls = StunClass::request;
  EXPECT_EQ(encode(m, std::nullopt).substr(0, 2), bytes({0x00, 0x03}));
  m.cls = StunClass::success;
  EXPECT_EQ(encode(m, std::nullopt).substr(0, 2), bytes({0x01, 0x03}));
  m.cls = StunClass::error;
  EXPECT_EQ(encode(m, std::nullopt).substr(0, 2), bytes({0x01, 0x13}));
  m.method = StunMethod::connection_attempt;
  m.cls = StunClass::indication;
  EXPECT_EQ(encode(m, std::nullopt).substr(0, 2), bytes({0x00, 0x1c}));
  auto back = parse_stun(encode(m, std::nullopt));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->method, StunMethod::connection_attempt);
  EXPECT_EQ(back->cls, StunClass::indication);
}

TEST(Stun, RoundTripWithIntegrityAndFingerprint) {
  StunMessage m;
  m.method = StunMethod::connection_bind;
  m.transaction_id = random_transaction_id();
  m.add(stun_attr::CONNECTION_ID, bytes({1, 2, 3, 4}));
  m.add(stun_attr::USERNAME, "alice");  // 5 bytes: padded
  m.add(stun_attr::REALM, "kith.test");
  m.add(stun_attr::NONCE, "n0nce");
  add_requested_transport(m, STUN_TRANSPORT_TCP);
  add_u32(m, stun_attr::LIFETIME, 600);
  const auto key = long_term_key("alice", "kith.test", "secret");
  const auto raw = encode(m, key);
  EXPECT_EQ(raw.size() % 4, 0u);
  EXPECT_EQ(stun_frame_size(raw.substr(0, 20)), raw.size());

  auto back = parse_stun(raw);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->method, m.method);
  EXPECT_EQ(back->cls, m.cls);
  EXPECT_EQ(back->transaction_id, m.transaction_id);
  ASSERT_EQ(back->attributes.size(), m.attributes.size() + 2);
  for (std::size_t i = 0; i < m.attributes.size(); ++i) {
    EXPECT_EQ(back->attributes[i].type, m.attributes[i].type);
    EXPECT_EQ(back->attributes[i].value, m.attributes[i].value);
  }
  EXPECT_EQ(back->attributes[m.attributes.size()].type, stun_attr::MESSAGE_INTEGRITY);
  EXPECT_EQ(back->attributes.back().type, stun_attr::FINGERPRINT);
  EXPECT_EQ(u32_attribute(*back, stun_attr::LIFETIME), 600u);
  EXPECT_EQ(*back->find(stun_attr::REQUESTED_TRANSPORT), bytes({6, 0, 0, 0}));

  EXPECT_TRUE(check_integrity(raw, key));
  EXPECT_FALSE(check_integrity(raw, long_term_key("alice", "kith.test", "wrong")));
  EXPECT_FALSE(check_integrity(encode(m, std::nullopt), key));  // none at all
  // Re-encoding what was parsed (no key: attributes as they are) gives the same bytes.
  EXPECT_EQ(encode(*back, std::nullopt), raw);

  // Any changed byte breaks the FINGERPRINT; one in a value (with a fingerprint fixed up) the integrity.
  auto flipped = raw;
  flipped[24] ^= 1;
  EXPECT_FALSE(parse_stun(flipped));
  EXPECT_FALSE(check_integrity(flipped, key));
}

TEST(Stun, LongTermKeyIsMd5OfUserRealmPassword) {
  // echo -n alice:kith.test:secret | md5sum
  EXPECT_EQ(long_term_key("alice", "kith.test", "secret"),
            bytes({0x24, 0x6d, 0x82, 0xdd, 0x42, 0x8b, 0xa2, 0x16, 0xab, 0xfc, 0x6c, 0xab, 0x3b, 0x34, 0xd2,
                   0x63}));
}

TEST(Stun, XorAddressesIpv4AndIpv6) {
  const auto id = random_transaction_id();
  for (const char* text : {"127.0.0.1", "203.0.113.9", "::1", "2001:db8::42"}) {
    StunAddress a{asio::ip::make_address(text), 49152};
    const auto value = xor_address_value(a, id);
    EXPECT_EQ(value.size(), a.ip.is_v4() ? 8u : 20u);
    auto back = parse_xor_address(value, id);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(back->ip, a.ip);
    EXPECT_EQ(back->port, a.port);
    EXPECT_EQ(parse_address(address_value(a))->ip, a.ip);
    EXPECT_NE(value.substr(4), address_value(a).substr(4));  // really XORed
  }
  EXPECT_FALSE(parse_xor_address(bytes({0, 3, 0, 0, 1, 2, 3, 4}), id));  // no family 3
  EXPECT_FALSE(parse_xor_address(bytes({0, 1, 0, 0, 1, 2, 3}), id));     // short
  EXPECT_EQ((StunAddress{asio::ip::make_address("::1"), 5}).to_string(), "[::1]:5");
}

TEST(Stun, ErrorCode) {
  StunMessage m;
  m.cls = StunClass::error;
  add_error_code(m, 438, "Stale Nonce");
  auto e = error_code(*parse_stun(encode(m, std::nullopt)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 438);
  EXPECT_EQ(e->reason, "Stale Nonce");
}

// RFC 5769 § 2.2: the sample IPv4 response (XOR-MAPPED-ADDRESS 192.0.2.1:32853).
TEST(Stun, Rfc5769SampleIpv4Response) {
  const auto raw =
      bytes({0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
             0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
             0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
             0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
             0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96});
  auto m = parse_stun(raw);  // checks the FINGERPRINT
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->method, StunMethod::binding);
  EXPECT_EQ(m->cls, StunClass::success);
  EXPECT_EQ(m->transaction_id, RFC5769_ID);
  EXPECT_EQ(*m->find(stun_attr::SOFTWARE), "test vector");
  EXPECT_EQ(xor_address(*m, stun_attr::XOR_MAPPED_ADDRESS)->to_string(), "192.0.2.1:32853");
  EXPECT_TRUE(check_integrity(raw, RFC5769_PASSWORD));
  EXPECT_FALSE(check_integrity(raw, "another password"));
}

// RFC 5769 § 2.3: the sample IPv6 response.
TEST(Stun, Rfc5769SampleIpv6Response) {
  const auto raw =
      bytes({0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
             0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
             0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
             0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
             0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
             0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c});
  auto m = parse_stun(raw);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(xor_address(*m, stun_attr::XOR_MAPPED_ADDRESS)->to_string(),
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(check_integrity(raw, RFC5769_PASSWORD));
}

TEST(Stun, RejectsMalformedMessages) {
  StunMessage m;
  m.method = StunMethod::allocate;
  m.add(stun_attr::USERNAME, "alice");
  const auto good = encode(m, std::nullopt);
  ASSERT_TRUE(parse_stun(good));
  EXPECT_FALSE(parse_stun(good.substr(0, 19)));               // shorter than the header
  EXPECT_FALSE(parse_stun(good.substr(0, good.size() - 4)));  // length field says more
  EXPECT_FALSE(parse_stun(good + std::string(4, '\0')));      // ...or less
  auto cookie = good;
  cookie[4] ^= 1;
  EXPECT_FALSE(parse_stun(cookie));
  auto top_bits = good;
  top_bits[0] = static_cast<char>(0x80);
  EXPECT_FALSE(parse_stun(top_bits));
  auto attr_past_end = good;
  attr_past_end[23] = 40;  // USERNAME's length now points past the message
  EXPECT_FALSE(parse_stun(attr_past_end));
  auto odd = good + std::string(2, '\0');
  odd[3] = static_cast<char>(good.size() - 20 + 2);
  EXPECT_FALSE(parse_stun(odd));
  EXPECT_EQ(stun_frame_size(odd.substr(0, 20)), 0u);
  // A FINGERPRINT anywhere but last.
  StunMessage f;
  f.add(stun_attr::FINGERPRINT, bytes({0, 0, 0, 0}));
  f.add(stun_attr::USERNAME, "x");
  EXPECT_FALSE(parse_stun(encode(f, std::nullopt)));
  // Over 64 KiB: a length field of 65532.
  auto huge = good.substr(0, 20);
  huge[2] = static_cast<char>(0xff);
  huge[3] = static_cast<char>(0xfc);
  EXPECT_EQ(stun_frame_size(huge), 0u);
  huge.append(65532, '\0');
  EXPECT_FALSE(parse_stun(huge));
  EXPECT_EQ(stun_frame_size("short"), 0u);
}

TEST(Stun, AttributesAfterIntegrityAreDropped) {
  StunMessage m;
  m.add(stun_attr::USERNAME, "alice");
  m.add(stun_attr::MESSAGE_INTEGRITY, std::string(20, 'x'));
  m.add(stun_attr::SOFTWARE, "not covered");
  auto back = parse_stun(encode(m, std::nullopt));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->attributes.size(), 2u);
  EXPECT_EQ(back->find(stun_attr::SOFTWARE), nullptr);
}

TEST(TurnServerSetting, Parses) {
  auto s = parse_turn_server("alice:secret@turn.example.org:3479");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->user, "alice");
  EXPECT_EQ(s->password, "secret");
  EXPECT_EQ(s->host, "turn.example.org");
  EXPECT_EQ(s->port, 3479);
  s = parse_turn_server("alice:p:a@ss@192.0.2.1");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->password, "p:a@ss");
  EXPECT_EQ(s->host, "192.0.2.1");
  EXPECT_EQ(s->port, 3478);
  s = parse_turn_server("bob:x@[2001:db8::1]");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->host, "2001:db8::1");
  EXPECT_EQ(s->port, 3478);
  s = parse_turn_server("bob:x@[2001:db8::1]:5000");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->port, 5000);
  for (const char* bad : {"turn.example.org:3478", "alice@turn.example.org", ":pw@host", "alice:@host",
                          "alice:pw@", "alice:pw@host:99999", "alice:pw@2001:db8::1"}) {
    auto r = parse_turn_server(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("USER:PASSWORD@HOST[:PORT]"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("pw@"), std::string::npos);  // the password is not echoed
  }
}

// ---- against coturn ----

namespace {

bool tcp_port_free(std::uint16_t port) {
  asio::io_context io;
  tcp::acceptor a(io);
  boost::system::error_code ec;
  a.open(tcp::v4(), ec);
  if (!ec) a.bind({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
  return !ec;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/usr/sbin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return {};
}

// A coturn on 127.0.0.1 with one user (alice:secret), TCP only, in a temporary folder of its own (log,
// pid file, SQLite database), killed when this goes.
class Coturn {
 public:
  std::uint16_t port = 0, min_port = 0, max_port = 0;

  // Empty when running; else why not.
  std::string start() {
    const auto binary = find_in_path("turnserver");
    if (binary.empty())
      return "turnserver (coturn) is not installed: run scripts/install-deps.sh (these tests need it)";
    m_dir = std::filesystem::temp_directory_path() /
            ("kith-turn-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(m_dir);
    // A listening port and a block of relay ports nobody uses, below the kernel's ephemeral range.
    std::mt19937 rng(std::random_device{}());
    for (int attempt = 0; attempt < 100 && !port; ++attempt) {
      const auto base = static_cast<std::uint16_t>(20000 + rng() % 10000);
      bool ok = true;
      for (std::uint16_t p = base; p <= base + 20 && ok; ++p) ok = tcp_port_free(p);
      if (ok) {
        port = base;
        min_port = static_cast<std::uint16_t>(base + 1);
        max_port = static_cast<std::uint16_t>(base + 20);
      }
    }
    if (!port) return "no free ports for coturn";
    std::vector<std::string> args = {binary,
                                     "-n",  // no configuration file
                                     "--listening-ip=127.0.0.1",
                                     "--listening-port=" + std::to_string(port),
                                     "--relay-ip=127.0.0.1",
                                     "--min-port=" + std::to_string(min_port),
                                     "--max-port=" + std::to_string(max_port),
                                     "--allow-loopback-peers",
                                     "--lt-cred-mech",
                                     "--realm=kith.test",
                                     "--user=alice:secret",
                                     "--no-udp",
                                     "--no-dtls",
                                     "--no-tls",
                                     "--no-udp-relay",
                                     "--no-cli",
                                     "--no-rfc5780",
                                     "--log-file=stdout",
                                     "--simple-log",
                                     "--pidfile=" + (m_dir / "turnserver.pid").string(),
                                     "--db=" + (m_dir / "turndb").string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const auto log = (m_dir / "turnserver.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&m_pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return "cannot start turnserver: " + std::string(std::strerror(rc));
    // Ready when it accepts a TCP connection.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
        m_pid = 0;
        return "turnserver exited at once; its log:\n" + log_text();
      }
      asio::io_context io;
      tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
      if (!ec) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "turnserver did not listen within 15 s; its log:\n" + log_text();
  }

  TurnServer server(const std::string& password = "secret") const {
    return TurnServer{"127.0.0.1", port, "alice", password};
  }

  std::string log_text() const {
    std::ifstream in(m_dir / "turnserver.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  ~Coturn() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(m_pid, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (::waitpid(m_pid, &status, WNOHANG) == 0) {
        ::kill(m_pid, SIGKILL);
        ::waitpid(m_pid, &status, 0);
      }
    }
    std::error_code ec;
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
  }

 private:
  pid_t m_pid = 0;
  std::filesystem::path m_dir;
};

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + seed) & 0xff);
  return s;
}

// A client and what its callbacks saw.
struct Observed {
  std::string relayed, lost;
  int losses = 0;
  std::vector<std::pair<tcp::socket, std::string>> incoming;
};

std::shared_ptr<TurnClient> make_client(asio::io_context& io, TurnServer server, Observed& seen,
                                        TurnOptions options = {}) {
  TurnClient::Callbacks cb;
  cb.on_allocated = [&seen](std::string relayed) { seen.relayed = std::move(relayed); };
  cb.on_lost = [&seen](std::string why) {
    seen.lost = std::move(why);
    ++seen.losses;
  };
  cb.on_incoming = [&seen](tcp::socket s, std::string peer) {
    seen.incoming.emplace_back(std::move(s), peer);
  };
  return std::make_shared<TurnClient>(io, std::move(server), std::move(cb), options);
}

// Sends `out` on `a` and reads as many bytes on `b`; both ways at once.
void exchange(asio::io_context& io, tcp::socket& a, tcp::socket& b, const std::string& a_to_b,
              const std::string& b_to_a) {
  std::string got_b(a_to_b.size(), '\0'), got_a(b_to_a.size(), '\0');
  int finished = 0;
  boost::system::error_code error;
  auto step = [&](boost::system::error_code ec, std::size_t) {
    if (ec) error = ec;
    ++finished;
  };
  asio::async_write(a, asio::buffer(a_to_b), step);
  asio::async_write(b, asio::buffer(b_to_a), step);
  asio::async_read(b, asio::buffer(got_b), step);
  asio::async_read(a, asio::buffer(got_a), step);
  ASSERT_TRUE(run_until(io, [&] { return finished == 4; })) << "the bytes did not get through";
  ASSERT_FALSE(error) << error.message();
  EXPECT_EQ(got_b, a_to_b);
  EXPECT_EQ(got_a, b_to_a);
}

class Turn : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto why = coturn.start();
    ASSERT_TRUE(why.empty()) << why;
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "coturn's log:\n" << coturn.log_text() << "\n";
  }

  // Starts `client` and waits for its allocation.
  void allocate(const std::shared_ptr<TurnClient>& client, Observed& seen) {
    client->start();
    ASSERT_TRUE(run_until(io, [&] { return !seen.relayed.empty() || !seen.lost.empty(); }))
        << "no allocation and no failure";
    ASSERT_TRUE(seen.lost.empty()) << seen.lost;
  }

  void permit(const std::shared_ptr<TurnClient>& client, std::vector<std::string> ips) {
    std::optional<Status> permitted;
    client->permit(std::move(ips), [&](Status s) { permitted = s; });
    ASSERT_TRUE(run_until(io, [&] { return permitted.has_value(); }));
    ASSERT_TRUE(*permitted) << permitted->error().message;
  }

  Coturn coturn;
  asio::io_context io;
};

}  // namespace

TEST_F(Turn, AllocatesARelayedTcpAddress) {
  Observed seen;
  auto client = make_client(io, coturn.server(), seen);
  EXPECT_EQ(client->state(), "stopped");
  allocate(client, seen);
  auto hp = base::parse_ip_port(seen.relayed);
  ASSERT_TRUE(hp) << seen.relayed;
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_GE(hp->port, coturn.min_port);
  EXPECT_LE(hp->port, coturn.max_port);
  EXPECT_EQ(client->relayed_address(), seen.relayed);
  EXPECT_EQ(client->state(), "allocated");
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return client->state() == "stopped"; }));
  EXPECT_TRUE(seen.lost.empty()) << "on_lost after stop(): " << seen.lost;
}

TEST_F(Turn, PermittedPeerIsDeliveredAndBytesFlowUnchanged) {
  Observed seen;
  auto client = make_client(io, coturn.server(), seen);
  allocate(client, seen);
  permit(client, {"127.0.0.1"});

  // The peer speaks first, at once: its first bytes arrive before our data connection is bound and
  // must neither be lost nor swallowed with the ConnectionBind answer.
  tcp::socket peer(io);
  const auto relayed = *base::parse_ip_port(seen.relayed);
  bool connected = false;
  boost::system::error_code connect_error;
  peer.async_connect({asio::ip::make_address(relayed.host), relayed.port}, [&](boost::system::error_code ec) {
    connect_error = ec;
    connected = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return connected; }));
  ASSERT_FALSE(connect_error) << connect_error.message();
  const auto hello = pattern(3000, 1);
  asio::write(peer, asio::buffer(hello));

  ASSERT_TRUE(run_until(io, [&] { return !seen.incoming.empty(); })) << "on_incoming never fired";
  auto& [ours, peer_address] = seen.incoming.front();
  boost::system::error_code ec;
  EXPECT_EQ(peer_address, "127.0.0.1:" + std::to_string(peer.local_endpoint(ec).port()));
  std::string first(hello.size(), '\0');
  bool read_done = false;
  asio::async_read(ours, asio::buffer(first),
                   [&](boost::system::error_code, std::size_t) { read_done = true; });
  ASSERT_TRUE(run_until(io, [&] { return read_done; }));
  EXPECT_EQ(first, hello);

  exchange(io, peer, ours, pattern(5000, 2), pattern(7000, 3));
  EXPECT_EQ(client->incoming(), 1u);
  client->stop();
}

TEST_F(Turn, ConnectsOutThroughTheServer) {
  Observed seen;
  auto client = make_client(io, coturn.server(), seen);
  allocate(client, seen);

  tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::optional<tcp::socket> accepted;
  acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
    if (!ec) accepted = std::move(s);
  });
  std::optional<Result<tcp::socket>> out;
  client->connect("127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()),
                  [&](Result<tcp::socket> r) { out = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value() && accepted.has_value(); }))
      << (out && !*out ? out->error().message : "no connection");
  ASSERT_TRUE(*out) << out->error().message;
  // The peer sees the connection come from our relayed address.
  boost::system::error_code ec;
  EXPECT_EQ(base::join_host_port(accepted->remote_endpoint(ec).address().to_string(),
                                 accepted->remote_endpoint(ec).port()),
            seen.relayed);
  exchange(io, **out, *accepted, pattern(4000, 4), pattern(6000, 5));
  EXPECT_EQ(client->outgoing(), 1u);
  client->stop();
}

// Two nodes behind the same TURN server: one dials the other's relayed address through its own
// allocation.
TEST_F(Turn, TwoClientsOfOneServerReachEachOther) {
  Observed a_seen, b_seen;
  auto a = make_client(io, coturn.server(), a_seen);
  auto b = make_client(io, coturn.server(), b_seen);
  allocate(a, a_seen);
  allocate(b, b_seen);
  permit(b, {"127.0.0.1"});
  std::optional<Result<tcp::socket>> out;
  a->connect(b_seen.relayed, [&](Result<tcp::socket> r) { out = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value() && !b_seen.incoming.empty(); }))
      << (out && !*out ? out->error().message : "no connection");
  ASSERT_TRUE(*out) << out->error().message;
  EXPECT_EQ(b_seen.incoming.front().second, a_seen.relayed);
  exchange(io, **out, b_seen.incoming.front().first, pattern(3000, 6), pattern(3000, 7));
  a->stop();
  b->stop();
}

TEST_F(Turn, ConnectToAClosedPortFailsClearly) {
  Observed seen;
  auto client = make_client(io, coturn.server(), seen);
  allocate(client, seen);
  std::uint16_t closed = 0;
  {
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed = a.local_endpoint().port();
  }
  std::optional<Result<tcp::socket>> out;
  client->connect("127.0.0.1:" + std::to_string(closed), [&](Result<tcp::socket> r) { out = std::move(r); });
  ASSERT_TRUE(run_until(
      io, [&] { return out.has_value(); }, std::chrono::seconds(60)));
  ASSERT_FALSE(*out);
  EXPECT_NE(out->error().message.find("Connect to 127.0.0.1:"), std::string::npos) << out->error().message;
  EXPECT_NE(out->error().message.find("447"), std::string::npos) << out->error().message;
  EXPECT_EQ(out->error().message.find("\\x00"), std::string::npos) << out->error().message;
  EXPECT_EQ(client->state(), "allocated");  // the allocation lives on
  client->stop();
}

TEST_F(Turn, WrongPasswordIsReportedAsAuthentication) {
  Observed seen;
  TurnOptions quick;
  quick.first_retry = std::chrono::milliseconds(20);
  auto client = make_client(io, coturn.server("not the password"), seen, quick);
  client->start();
  ASSERT_TRUE(run_until(io, [&] { return !seen.lost.empty() || !seen.relayed.empty(); }));
  EXPECT_TRUE(seen.relayed.empty());
  EXPECT_NE(seen.lost.find("authentication"), std::string::npos) << seen.lost;
  EXPECT_EQ(client->state().rfind("failed: ", 0), 0u) << client->state();
  // It tries again (and fails again) until stopped.
  ASSERT_TRUE(run_until(io, [&] { return seen.losses >= 2; }));
  EXPECT_NE(seen.lost.find("authentication"), std::string::npos) << seen.lost;
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return client->state() == "stopped"; }));
  const int losses = seen.losses;
  EXPECT_FALSE(run_until(
      io, [] { return false; }, std::chrono::milliseconds(200)));  // time for a retry
  EXPECT_EQ(seen.losses, losses);                                  // no retry after stop()
}

TEST_F(Turn, PeerWithoutPermissionIsNotDelivered) {
  Observed seen;
  auto client = make_client(io, coturn.server(), seen);
  allocate(client, seen);
  permit(client, {"192.0.2.7"});  // someone else
  const auto relayed = *base::parse_ip_port(seen.relayed);
  tcp::socket peer(io);
  bool ended = false;
  char byte = 0;
  peer.async_connect({asio::ip::make_address(relayed.host), relayed.port}, [&](boost::system::error_code ec) {
    if (ec) {
      ended = true;  // refused outright
      return;
    }
    asio::async_write(peer, asio::buffer("hello", 5), [](boost::system::error_code, std::size_t) {});
    peer.async_read_some(asio::buffer(&byte, 1),
                         [&](boost::system::error_code, std::size_t) { ended = true; });
  });
  ASSERT_TRUE(run_until(io, [&] { return ended; }))
      << "the server kept the unpermitted peer's connection open";
  EXPECT_TRUE(seen.incoming.empty());
  EXPECT_EQ(client->incoming(), 0u);
  client->stop();
}

// ---- against a server that misbehaves (no coturn needed) ----

namespace {

// A one-connection fake TURN server on its own thread: `script` gets the accepted socket.
struct FakeServer {
  asio::io_context io;
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread;
  explicit FakeServer(std::function<void(tcp::socket&)> script) {
    thread = std::thread([this, script = std::move(script)] {
      boost::system::error_code ec;
      tcp::socket s = acceptor.accept(ec);
      if (ec) return;
      script(s);
      // Until the client hangs up.
      char buffer[256];
      while (!ec) s.read_some(asio::buffer(buffer), ec);
    });
  }
  ~FakeServer() { thread.join(); }
  TurnServer server() const { return {"127.0.0.1", acceptor.local_endpoint().port(), "alice", "secret"}; }
};

std::optional<StunMessage> read_request(tcp::socket& s) {
  std::string raw(20, '\0');
  boost::system::error_code ec;
  asio::read(s, asio::buffer(raw), ec);
  if (ec) return std::nullopt;
  const auto size = stun_frame_size(raw);
  if (!size) return std::nullopt;
  raw.resize(size);
  asio::read(s, asio::buffer(raw.data() + 20, size - 20), ec);
  if (ec) return std::nullopt;
  auto m = parse_stun(raw);
  return m ? std::optional<StunMessage>(*m) : std::nullopt;
}

}  // namespace

TEST(TurnMisbehaving, NotStunClosesTheConnection) {
  asio::io_context io;
  FakeServer fake([](tcp::socket& s) {
    (void)read_request(s);  // whatever it asked: the answer is not STUN
    const std::string http = "HTTP/1.1 400 Bad Request\r\n\r\n";
    boost::system::error_code ec;
    asio::write(s, asio::buffer(http), ec);
  });
  Observed seen;
  auto client = make_client(io, fake.server(), seen);
  client->start();
  ASSERT_TRUE(run_until(io, [&] { return !seen.lost.empty(); }));
  EXPECT_NE(seen.lost.find("not a STUN message"), std::string::npos) << seen.lost;
  client->stop();
  EXPECT_EQ(seen.losses, 1);  // once, though the pending Allocate failed with it
  ASSERT_TRUE(run_until(io, [&] { return client->state() == "stopped"; }));
}

TEST(TurnMisbehaving, AnswerWithBadIntegrityIsRefused) {
  asio::io_context io;
  FakeServer fake([](tcp::socket& s) {
    boost::system::error_code ec;
    auto first = read_request(s);
    if (!first) return;
    StunMessage challenge;
    challenge.method = StunMethod::allocate;
    challenge.cls = StunClass::error;
    challenge.transaction_id = first->transaction_id;
    add_error_code(challenge, 401, "Unauthorized\x1b[31m");  // escaped when logged
    challenge.add(stun_attr::REALM, "kith.test");
    challenge.add(stun_attr::NONCE, "0123456789abcdef");
    asio::write(s, asio::buffer(encode(challenge, std::nullopt)), ec);
    auto second = read_request(s);
    if (!second || !second->find(stun_attr::MESSAGE_INTEGRITY)) return;
    StunMessage ok;
    ok.method = StunMethod::allocate;
    ok.cls = StunClass::success;
    ok.transaction_id = second->transaction_id;
    ok.add(stun_attr::XOR_RELAYED_ADDRESS,
           xor_address_value({asio::ip::make_address("127.0.0.1"), 40000}, ok.transaction_id));
    add_u32(ok, stun_attr::LIFETIME, 600);
    asio::write(s, asio::buffer(encode(ok, long_term_key("alice", "kith.test", "forged"))), ec);
  });
  Observed seen;
  auto client = make_client(io, fake.server(), seen);
  client->start();
  ASSERT_TRUE(run_until(io, [&] { return !seen.lost.empty() || !seen.relayed.empty(); }));
  EXPECT_TRUE(seen.relayed.empty());
  EXPECT_NE(seen.lost.find("integrity"), std::string::npos) << seen.lost;
  client->stop();
  ASSERT_TRUE(run_until(io, [&] { return client->state() == "stopped"; }));
}
