// ICE links between two agents in this process, on loopback only (Options::addresses), through real
// libnice agents and real UDP sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <future>
#include <random>

#include "ice/ice_link.hpp"

namespace kith::ice {
namespace {

using namespace std::chrono_literals;

template <class T>
Result<T> wait(std::function<void(std::function<void(Result<T>)>)> start) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  start([promise](Result<T> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(60s) != std::future_status::ready) ADD_FAILURE() << "no completion";
  return future.get();
}

Result<Candidates> gather(Link& link) {
  return wait<Candidates>([&](auto done) { link.gather(std::move(done)); });
}

Options loopback(bool controlling) {
  Options o;
  o.controlling = controlling;
  o.addresses = {"127.0.0.1"};
  return o;
}

// Connects two links; both must succeed.
std::pair<Stream, Stream> connect_pair(Engine& engine) {
  auto a = engine.create(loopback(true)), b = engine.create(loopback(false));
  auto ca = gather(*a), cb = gather(*b);
  EXPECT_TRUE(ca && cb);
  std::promise<Result<Stream>> pa, pb;
  a->connect(*cb, [&](Result<Stream> r) { pa.set_value(std::move(r)); });
  b->connect(*ca, [&](Result<Stream> r) { pb.set_value(std::move(r)); });
  auto sa = pa.get_future().get(), sb = pb.get_future().get();
  EXPECT_TRUE(sa) << sa.error().message;
  EXPECT_TRUE(sb) << sb.error().message;
  return {*sa, *sb};
}

std::string read_n(int fd, std::size_t n) {
  std::string out;
  std::vector<char> buf(65536);
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30'000) != 1) break;
    const auto r = ::recv(fd, buf.data(), std::min(buf.size(), n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(r));
  }
  return out;
}

// A UDP socket on 127.0.0.1 (any free port, returned in `port`), or -1.
int loopback_udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    return -1;
  port = ntohs(sa.sin_port);
  return fd;
}

bool reads_eof(int fd) {
  char c;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 30'000) == 1 && ::recv(fd, &c, 1, 0) == 0;
}

TEST(Ice, CandidatesAreCheckedBeforeLibniceSeesThem) {
  Candidates ok{"abcd", "0123456789abcdefghijkl", {"a=candidate:1 1 UDP 2013266431 127.0.0.1 4000 typ host"}};
  EXPECT_EQ(check_candidates(ok), "");
  auto c = ok;
  c.ufrag = "ab";
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.pwd = "short";
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.ufrag = "abc\x1b[2J";
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.lines = {};
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.lines.assign(MAX_CANDIDATES + 1, ok.lines[0]);
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.lines = {"a=candidate:1 1 UDP 1 127.0.0.1 4000 typ host\n"};
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.lines = {"x=candidate:1"};
  EXPECT_NE(check_candidates(c), "");
  c = ok;
  c.lines = {"a=candidate:" + std::string(MAX_CANDIDATE_LENGTH, '1')};
  EXPECT_NE(check_candidates(c), "");
}

TEST(Ice, GatheredCandidatesAreLoopbackHostOnesWithCredentials) {
  Engine engine;
  auto link = engine.create(loopback(true));
  auto c = gather(*link);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(check_candidates(*c), "");
  ASSERT_FALSE(c->lines.empty());
  for (const auto& l : c->lines) {
    EXPECT_NE(l.find(" 127.0.0.1 "), std::string::npos) << l;
    EXPECT_NE(l.find("typ host"), std::string::npos) << l;
  }
}

// A STUN server (one answer, by hand) that says the request came from 127.0.0.9:4444: libnice must
// take that as a server-reflexive candidate while it gathers.
TEST(Ice, AStunServersAnswerDuringGatheringBecomesAServerReflexiveCandidate) {
  std::uint16_t port = 0;
  const int server = loopback_udp_socket(port);
  ASSERT_GE(server, 0);
  auto answer = std::async(std::launch::async, [server] {
    unsigned char req[1500];
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    pollfd p{server, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return false;
    const auto n = ::recvfrom(server, req, sizeof req, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 20) return false;
    std::string r;
    auto put16 = [&](unsigned v) { r += char(v >> 8), r += char(v & 0xff); };
    put16(0x0101);  // Binding success
    put16(12 + 8);
    r.append(reinterpret_cast<const char*>(req) + 4, 16);  // cookie + transaction id
    put16(0x0020);                                         // XOR-MAPPED-ADDRESS
    put16(8);
    put16(0x0001);
    put16(4444 ^ 0x2112);
    const unsigned ip = (127u << 24 | 9u) ^ 0x2112A442u;
    put16(ip >> 16);
    put16(ip & 0xffff);
    boost::crc_32_type crc;
    crc.process_bytes(r.data(), r.size());
    const unsigned fp = crc.checksum() ^ 0x5354554eu;
    put16(0x8028);  // FINGERPRINT
    put16(4);
    put16(fp >> 16);
    put16(fp & 0xffff);
    return ::sendto(server, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen) > 0;
  });
  Engine engine;
  auto o = loopback(true);
  o.stun_host = "127.0.0.1";
  o.stun_port = port;
  auto link = engine.create(o);
  auto c = gather(*link);
  ASSERT_TRUE(answer.get());
  ASSERT_TRUE(c) << c.error().message;
  bool srflx = false;
  for (const auto& l : c->lines) srflx |= l.find(" 127.0.0.9 4444 typ srflx") != std::string::npos;
  EXPECT_TRUE(srflx) << "no server-reflexive candidate in " << testing::PrintToString(c->lines);
  ::close(server);
}

TEST(Ice, BytesCrossBothWaysInOrderAndCloseIsSeen) {
  Engine engine;
  auto [a, b] = connect_pair(engine);
  ASSERT_GE(a.fd, 0);
  ASSERT_GE(b.fd, 0);
  EXPECT_EQ(a.remote, b.local);
  EXPECT_EQ(b.remote, a.local);

  // More than any buffer on the way (socket pairs, pseudo-TCP windows), from threads, both ways at once.
  std::mt19937 rng(7);
  std::string up(1024 * 1024 + 11, '\0'), down(512 * 1024 + 5, '\0');
  for (auto& ch : up) ch = static_cast<char>(rng());
  for (auto& ch : down) ch = static_cast<char>(rng());
  auto send_all = [](int fd, const std::string& s) {
    for (std::size_t off = 0; off < s.size();) {
      const auto w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (w <= 0) return false;
      off += static_cast<std::size_t>(w);
    }
    return true;
  };
  // Both ends read all the time, as a Channel does: an end whose reader stalls also stops taking the
  // ACKs for what it sends (libnice handles incoming packets inside the blocking read).
  auto fa = std::async(std::launch::async, send_all, a.fd, up);
  auto fb = std::async(std::launch::async, send_all, b.fd, down);
  auto ra = std::async(std::launch::async, read_n, a.fd, down.size());
  const auto at_b = read_n(b.fd, up.size());
  const auto at_a = ra.get();
  EXPECT_TRUE(fa.get());
  EXPECT_TRUE(fb.get());
  EXPECT_TRUE(at_b == up) << "b got " << at_b.size() << " of " << up.size() << " bytes, or other bytes";
  EXPECT_TRUE(at_a == down) << "a got " << at_a.size() << " of " << down.size() << " bytes, or other bytes";

  ::close(a.fd);
  EXPECT_TRUE(reads_eof(b.fd)) << "the far end never learnt that the link closed";
  ::close(b.fd);
}

TEST(Ice, AHostileCandidateListEndsTheAttemptWithAClearError) {
  Engine engine;
  auto link = engine.create(loopback(true));
  ASSERT_TRUE(gather(*link));
  Candidates junk{"abcd", "0123456789abcdefghijkl", {"a=candidate:garbage that libnice cannot read"}};
  auto r = wait<Stream>([&](auto done) { link->connect(junk, std::move(done)); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("candidates could be read"), std::string::npos) << r.error().message;
}

TEST(Ice, APeerThatNeverAnswersTimesOut) {
  // A UDP port that takes the checks and never answers them.
  std::uint16_t port = 0;
  const int silent = loopback_udp_socket(port);
  ASSERT_GE(silent, 0);
  const Candidates nobody{"abcd",
                          "0123456789abcdefghijkl",
                          {"a=candidate:1 1 UDP 2013266431 127.0.0.1 " + std::to_string(port) + " typ host"}};
  Engine engine;
  auto o = loopback(true);
  o.timeout = 2s;
  auto a = engine.create(o);
  ASSERT_TRUE(gather(*a));
  auto r = wait<Stream>([&](auto done) { a->connect(nobody, std::move(done)); });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no working UDP path"), std::string::npos) << r.error().message;
  ::close(silent);
}

TEST(Ice, ConnectBeforeGatherAndCancelAnswerOnce) {
  Engine engine;
  auto link = engine.create(loopback(true));
  auto r = wait<Stream>([&](auto done) { link->connect(Candidates{}, std::move(done)); });
  EXPECT_FALSE(r);
  auto other = engine.create(loopback(false));
  ASSERT_TRUE(gather(*link));
  auto co = gather(*other);
  ASSERT_TRUE(co);
  std::promise<Result<Stream>> p;
  int calls = 0;
  link->connect(*co, [&](Result<Stream> s) {
    ++calls;
    p.set_value(std::move(s));
  });
  link->cancel();
  auto s = p.get_future().get();
  EXPECT_FALSE(s);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace kith::ice
