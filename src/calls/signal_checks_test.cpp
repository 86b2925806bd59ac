#include "calls/signal_checks.hpp"

#include <gtest/gtest.h>

namespace kith::calls {
namespace {

const std::string SDP =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=fingerprint:sha-256 AB:CD:EF\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=candidate:1 1 udp 2122260223 192.168.1.5 50000 typ host\r\n"
    "a=candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host\r\n";

TEST(SignalChecks, AcceptsABrowserLikeDescription) { EXPECT_TRUE(check_sdp(SDP)); }

TEST(SignalChecks, RefusesHostileDescriptions) {
  EXPECT_FALSE(check_sdp(""));
  EXPECT_FALSE(check_sdp("x=0\r\nm=audio 9 RTP 0\r\n"));
  EXPECT_FALSE(check_sdp(std::string("v=0\r\nm=audio 9 RTP 0\r\n")));  // no fingerprint
  EXPECT_FALSE(check_sdp("v=0\r\na=fingerprint:sha-256 AB\r\n"));      // no media
  EXPECT_FALSE(check_sdp(SDP + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  EXPECT_FALSE(check_sdp(SDP + "a=x\x1b[31m\r\n"));  // a terminal escape
  EXPECT_FALSE(check_sdp(SDP + std::string(MAX_SDP, 'a')));
  std::string many = SDP;
  for (int i = 0; i < 8; ++i) many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  EXPECT_FALSE(check_sdp(many));
}

TEST(SignalChecks, CandidatesAreCheckedAndTheirAddressTaken) {
  auto a = check_candidate(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "203.0.113.7");
  EXPECT_EQ(*check_candidate("candidate:1 1 UDP 2 4f1c8a2e-x.local 5000 typ host"), "4f1c8a2e-x.local");
  EXPECT_FALSE(check_candidate("a=candidate:1 1 udp 2 1.2.3.4 5 typ host"));
  EXPECT_FALSE(check_candidate("candidate:1 1 sctp 2 1.2.3.4 5 typ host"));
  EXPECT_FALSE(check_candidate("candidate:1 1 udp 2 1.2.3.4 70000 typ host"));
  EXPECT_FALSE(check_candidate("candidate:1 1 udp 2 1.2.3.4 5 typ evil"));
  EXPECT_FALSE(check_candidate("candidate:1 1 udp 2 1.2.3.4"));
  EXPECT_FALSE(check_candidate("candidate:1 1 udp 2 1.2.3.4 5 typ host\n"));
  EXPECT_FALSE(check_candidate("candidate:" + std::string(300, '1')));
}

TEST(SignalChecks, NetworksKeepCandidatesToTheAllowedOnes) {
  auto nets = Networks::parse({"127.0.0.0/8", "::1", "10.1.0.0/16"});
  ASSERT_TRUE(nets);
  EXPECT_TRUE(nets->allows("127.0.0.1"));
  EXPECT_TRUE(nets->allows("127.200.0.9"));
  EXPECT_TRUE(nets->allows("::1"));
  EXPECT_TRUE(nets->allows("10.1.255.3"));
  EXPECT_FALSE(nets->allows("10.2.0.1"));
  EXPECT_FALSE(nets->allows("192.168.1.5"));
  EXPECT_FALSE(nets->allows("x.local"));
  EXPECT_TRUE(Networks::parse({})->allows("x.local"));
  EXPECT_FALSE(Networks::parse({"10.0.0.0/33"}));
  EXPECT_FALSE(Networks::parse({"not-an-ip"}));

  auto filtered = filter_sdp_candidates(SDP, *nets);
  EXPECT_EQ(filtered.find("192.168.1.5"), std::string::npos);
  EXPECT_NE(filtered.find("a=candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host\r\n"), std::string::npos);
  EXPECT_TRUE(check_sdp(filtered));
}

}  // namespace
}  // namespace kith::calls
