// Two real calls in this process, connected by handing descriptions and candidates over directly, with
// ICE on 127.0.0.1 only (no STUN): Opus audio from WAV files into WAV recordings, VP8 video from a
// test pattern, hostile descriptions and candidates, and a tampered DTLS fingerprint. No sound card,
// camera or display is needed (file and test sources, file and fake sinks).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "media/call.hpp"
#include "media/mixer.hpp"
#include "media/room_audio.hpp"

namespace kith::media {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int RATE = 48000;

void write_wav(const fs::path& path, double freq, double seconds) {
  const auto n = static_cast<std::uint32_t>(RATE * seconds);
  std::vector<std::int16_t> samples(n);
  for (std::uint32_t i = 0; i < n; ++i)
    samples[i] = static_cast<std::int16_t>(12000 * std::sin(2 * M_PI * freq * i / RATE));
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](std::uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](std::uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  f.write("RIFF", 4);
  u32(36 + n * 2);
  f.write("WAVEfmt ", 8);
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(RATE);
  u32(RATE * 2);
  u16(2);
  u16(16);
  f.write("data", 4);
  u32(n * 2);
  f.write(reinterpret_cast<const char*>(samples.data()), n * 2);
}

// The samples of a 16-bit PCM WAV file (first channel); empty when it is not one.
std::vector<double> read_wav(const fs::path& path, int* rate_out) {
  std::ifstream f(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (data.size() < 12 || data.compare(0, 4, "RIFF") != 0 || data.compare(8, 4, "WAVE") != 0) return {};
  auto u32 = [&](std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, data.data() + at, 4);
    return v;
  };
  auto u16 = [&](std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, data.data() + at, 2);
    return v;
  };
  int channels = 1;
  std::size_t pos = 12;
  while (pos + 8 <= data.size()) {
    const std::string id = data.substr(pos, 4);
    const std::uint32_t size = u32(pos + 4);
    if (id == "fmt ") {
      channels = u16(pos + 10);
      *rate_out = static_cast<int>(u32(pos + 12));
      if (u16(pos + 22) != 16) return {};
    } else if (id == "data") {
      if (pos + 8 + size > data.size()) return {};  // sizes not finalised
      std::vector<double> out;
      for (std::size_t i = pos + 8; i + 2 * channels <= pos + 8 + size; i += 2 * channels) {
        std::int16_t s;
        std::memcpy(&s, data.data() + i, 2);
        out.push_back(s / 32768.0);
      }
      return out;
    }
    pos += 8 + size + (size & 1);
  }
  return {};
}

// The power of `freq` in `x` (Goertzel), normalised by the length.
double tone_power(const std::vector<double>& x, double freq, int rate) {
  const double w = 2 * M_PI * freq / rate, coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (double v : x) {
    const double s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / static_cast<double>(x.size() * x.size());
}

// One side: a call and what its callbacks reported.
struct Side {
  std::unique_ptr<Call> call;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<State> states;
  std::string last_detail;
  std::vector<std::string> local_candidates;
  std::string description;  // the last one it made

  bool wait_state(State s, std::chrono::milliseconds within) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, within,
                       [&] { return std::find(states.begin(), states.end(), s) != states.end(); });
  }
  bool saw(State s) {
    std::lock_guard lock(mu);
    return std::find(states.begin(), states.end(), s) != states.end();
  }
};

struct Pair {
  Side a, b;
  // Changes the answer before A applies it (the tampered-fingerprint case).
  std::function<std::string(std::string)> tamper_answer;
  std::atomic<bool> apply_failed{false};
};

Callbacks wire(Pair& p, Side& self, Side& other) {
  Callbacks cb;
  cb.on_description = [&p, &self, &other](std::string type, std::string sdp) {
    {
      std::lock_guard lock(self.mu);
      self.description = sdp;
    }
    if (type == "answer" && p.tamper_answer) sdp = p.tamper_answer(sdp);
    if (!other.call->set_remote_description(type, sdp)) p.apply_failed = true;
  };
  cb.on_candidate = [&self, &other](unsigned mline, std::string line) {
    {
      std::lock_guard lock(self.mu);
      self.local_candidates.push_back(line);
    }
    EXPECT_TRUE(other.call->add_remote_candidate(mline, line)) << line;
  };
  cb.on_state = [&p, &self](State s, std::string detail) {
    std::printf("%s: %s (%s)\n", &self == &p.a ? "A" : "B", to_string(s), detail.c_str());
    std::lock_guard lock(self.mu);
    self.states.push_back(s);
    self.last_detail = detail;
    self.cv.notify_all();
  };
  return cb;
}

Options loopback() {
  Options o;
  o.ice_networks = {"127.0.0.1"};
  o.show_video = false;
  return o;
}

class MediaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("kith_media_test_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // Creates both calls (A offers), with the options given, and starts the exchange.
  void start(Pair& p, Options oa, Options ob) {
    auto a = Call::create(std::move(oa), wire(p, p.a, p.b));
    ASSERT_TRUE(a) << a.error().message;
    auto b = Call::create(std::move(ob), wire(p, p.b, p.a));
    ASSERT_TRUE(b) << b.error().message;
    p.a.call = std::move(*a);
    p.b.call = std::move(*b);
    ASSERT_TRUE(p.a.call->create_offer());
  }

  fs::path dir;
};

TEST_F(MediaTest, AudioFlowsBothWaysIntoRecordings) {
  write_wav(dir / "a.wav", 440, 3.0);
  write_wav(dir / "b.wav", 660, 3.0);
  Options oa = loopback(), ob = loopback();
  oa.send_audio = dir / "a.wav";
  oa.record = dir / "a_heard.wav";
  ob.send_audio = dir / "b.wav";
  ob.record = dir / "b_heard.wav";
  Pair p;
  start(p, oa, ob);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.a.wait_state(State::connected, 10s)) << p.a.last_detail;
  ASSERT_TRUE(p.b.wait_state(State::connected, 10s)) << p.b.last_detail;
  const auto connect_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::this_thread::sleep_for(2500ms);
  const Stats sa = p.a.call->stats(), sb = p.b.call->stats();
  std::printf("connected after %lld ms; A heard %llu packets (%llu bytes), lost %lld, rtt %s, codecs:",
              static_cast<long long>(connect_ms), static_cast<unsigned long long>(sa.audio_packets_received),
              static_cast<unsigned long long>(sa.audio_bytes_received),
              static_cast<long long>(sa.packets_lost),
              sa.round_trip_time ? std::to_string(*sa.round_trip_time).c_str() : "-");
  for (const auto& c : sa.codecs) std::printf(" %s", c.c_str());
  std::printf("\n");
  EXPECT_TRUE(sa.connected);
  EXPECT_GT(sa.audio_packets_received, 50u);  // 20 ms packets: ~125 in 2.5 s
  EXPECT_GT(sb.audio_packets_received, 50u);
  EXPECT_GT(sa.audio_bytes_received, sa.audio_packets_received);
  EXPECT_NE(std::find(sa.codecs.begin(), sa.codecs.end(), "audio/OPUS"), sa.codecs.end());
  // Every candidate reported stays on loopback.
  for (Side* s : {&p.a, &p.b})
    for (const auto& c : s->local_candidates) EXPECT_NE(c.find(" 127.0.0.1 "), std::string::npos) << c;

  const auto c0 = std::chrono::steady_clock::now();
  p.a.call->close();
  p.b.call->close();
  std::printf("closing both (recordings finalised) took %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - c0)
                      .count()));
  EXPECT_TRUE(p.a.saw(State::closed));
  EXPECT_EQ(p.a.call->state(), State::closed);

  struct Expect {
    fs::path file;
    double hear, own;
  };
  for (const auto& e : {Expect{dir / "a_heard.wav", 660, 440}, Expect{dir / "b_heard.wav", 440, 660}}) {
    int rate = 0;
    const auto x = read_wav(e.file, &rate);
    ASSERT_EQ(rate, RATE) << e.file;
    ASSERT_GT(x.size(), static_cast<std::size_t>(RATE));  // over a second of audio
    // The dominant frequency between 100 and 2000 Hz is the other side's tone.
    double best_f = 0, best_p = 0;
    for (double f = 100; f <= 2000; f += 10)
      if (const double pw = tone_power(x, f, rate); pw > best_p) best_p = pw, best_f = f;
    const double heard = tone_power(x, e.hear, rate), own = tone_power(x, e.own, rate);
    std::printf("%s: %zu samples, peak at %.0f Hz, power(%.0f)/power(%.0f) = %.0f\n",
                e.file.filename().c_str(), x.size(), best_f, e.hear, e.own, heard / std::max(own, 1e-30));
    EXPECT_NEAR(best_f, e.hear, 10) << e.file;
    EXPECT_GT(heard, 100 * own) << e.file;
    EXPECT_GT(heard, 1e-4) << e.file;  // not just noise: a clear tone
  }
}

TEST_F(MediaTest, VideoFramesAreDecoded) {
  Options oa = loopback(), ob = loopback();
  write_wav(dir / "s.wav", 300, 0.5);
  for (Options* o : {&oa, &ob}) {
    o->send_audio = dir / "s.wav";
    o->record = dir / (o == &oa ? "a.wav" : "b.wav");
    o->video = true;
    o->video_test_pattern = true;
  }
  Pair p;
  start(p, oa, ob);
  ASSERT_TRUE(p.a.wait_state(State::connected, 10s)) << p.a.last_detail;
  ASSERT_TRUE(p.b.wait_state(State::connected, 10s)) << p.b.last_detail;
  std::this_thread::sleep_for(1500ms);
  const auto first_a = p.a.call->stats().video_frames_decoded,
             first_b = p.b.call->stats().video_frames_decoded;
  std::this_thread::sleep_for(1000ms);
  const Stats sa = p.a.call->stats(), sb = p.b.call->stats();
  std::printf(
      "video frames decoded: A %llu then %llu, B %llu then %llu; codecs:",
      static_cast<unsigned long long>(first_a), static_cast<unsigned long long>(sa.video_frames_decoded),
      static_cast<unsigned long long>(first_b), static_cast<unsigned long long>(sb.video_frames_decoded));
  for (const auto& c : sa.codecs) std::printf(" %s", c.c_str());
  std::printf("\n");
  EXPECT_GT(sa.video_frames_decoded, first_a);
  EXPECT_GT(sb.video_frames_decoded, first_b);
  EXPECT_GT(sa.video_frames_decoded, 10u);  // 15 frames a second
  EXPECT_NE(std::find(sa.codecs.begin(), sa.codecs.end(), "video/VP8"), sa.codecs.end());
  p.a.call->close();
  p.b.call->close();
}

// The answer's DTLS fingerprint with one hex digit changed: A must never report connected.
TEST_F(MediaTest, TamperedFingerprintNeverConnects) {
  Options oa = loopback(), ob = loopback();
  write_wav(dir / "s.wav", 300, 0.5);
  oa.send_audio = ob.send_audio = dir / "s.wav";
  oa.record = dir / "a.wav";
  ob.record = dir / "b.wav";
  Pair p;
  p.tamper_answer = [](std::string sdp) {
    const auto at = sdp.find("a=fingerprint:sha-256 ");
    if (at == std::string::npos) return sdp;
    char& c = sdp[at + std::strlen("a=fingerprint:sha-256 ")];
    c = c == 'A' ? 'B' : 'A';
    return sdp;
  };
  start(p, oa, ob);
  const bool failed = p.a.wait_state(State::failed, 8s);
  EXPECT_TRUE(failed) << "A did not fail";
  {
    std::lock_guard lock(p.a.mu);
    std::printf("tampered fingerprint: A %s (%s)\n", failed ? "failed" : "did not fail",
                p.a.last_detail.c_str());
  }
  EXPECT_FALSE(p.a.saw(State::connected));
  EXPECT_FALSE(p.apply_failed);  // the tampered answer is well-formed: refused only by the handshake check
  EXPECT_FALSE(p.a.call->stats().connected);
  p.a.call->close();
  p.b.call->close();
  EXPECT_FALSE(p.a.saw(State::connected));
}

// A real description to mutate: an offer from a call.
std::string real_offer(const fs::path& dir) {
  write_wav(dir / "s.wav", 300, 0.5);
  Options o = loopback();
  o.send_audio = dir / "s.wav";
  o.record = dir / "r.wav";
  o.video = true;
  o.video_test_pattern = true;
  std::mutex mu;
  std::condition_variable cv;
  std::string offer;
  Callbacks cb;
  cb.on_description = [&](std::string, std::string sdp) {
    std::lock_guard lock(mu);
    offer = sdp;
    cv.notify_all();
  };
  auto call = Call::create(o, cb);
  EXPECT_TRUE(call);
  if (!call) return {};
  EXPECT_TRUE((*call)->create_offer());
  std::unique_lock lock(mu);
  cv.wait_for(lock, 5s, [&] { return !offer.empty(); });
  return offer;
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string remove_lines(const std::string& sdp, const std::string& prefix) {
  std::string out;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto end = sdp.find('\n', pos);
    end = end == std::string::npos ? sdp.size() : end + 1;
    if (sdp.compare(pos, prefix.size(), prefix) != 0) out += sdp.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

TEST_F(MediaTest, HostileDescriptionsAndCandidatesAreRefused) {
  const std::string offer = real_offer(dir);
  ASSERT_FALSE(offer.empty());
  EXPECT_TRUE(check_sdp("offer", offer));
  EXPECT_TRUE(check_sdp("answer", offer));
  EXPECT_FALSE(check_sdp("pranswer", offer));
  EXPECT_FALSE(check_sdp("offer", ""));
  EXPECT_FALSE(check_sdp("offer", "hello"));
  EXPECT_FALSE(check_sdp("offer", remove_lines(offer, "a=fingerprint:")));
  EXPECT_FALSE(check_sdp("offer", replace(offer, "a=fingerprint:sha-256 ", "a=fingerprint:md5 ")));
  EXPECT_FALSE(check_sdp("offer", replace(offer, "a=fingerprint:sha-256 ", "a=fingerprint:sha-256 ZZ")));
  EXPECT_FALSE(check_sdp("offer", remove_lines(offer, "a=ice-pwd:")));
  EXPECT_FALSE(check_sdp("offer", replace(offer, "m=video", "m=application")));
  EXPECT_FALSE(check_sdp("offer", replace(offer, "UDP/TLS/RTP/SAVPF", "RTP/AVP")));
  EXPECT_FALSE(check_sdp("offer", replace(offer, "a=", std::string("a=\x01"))));
  EXPECT_FALSE(check_sdp("offer", offer + std::string(MAX_SDP_SIZE, 'x')));
  // Five m-lines: the audio section repeated.
  const auto audio = offer.find("m=audio"), video = offer.find("m=video");
  ASSERT_NE(audio, std::string::npos);
  ASSERT_NE(video, std::string::npos);
  std::string five = offer;
  for (int i = 0; i < 3; ++i) five += offer.substr(audio, video - audio);
  EXPECT_FALSE(check_sdp("offer", five));
  std::string four = offer;
  for (int i = 0; i < 2; ++i) four += offer.substr(audio, video - audio);
  EXPECT_TRUE(check_sdp("offer", four));

  // Through a call, too: refused before webrtcbin sees it.
  Options o = loopback();
  o.send_audio = dir / "s.wav";
  o.record = dir / "r2.wav";
  auto call = Call::create(o, {});
  ASSERT_TRUE(call) << call.error().message;
  const auto refused = (*call)->set_remote_description("offer", remove_lines(offer, "a=fingerprint:"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code_name(), "base.bad_input");

  const std::string good = "candidate:1 1 UDP 2013266431 127.0.0.1 50000 typ host";
  EXPECT_TRUE(check_candidate(good));
  EXPECT_TRUE((*call)->add_remote_candidate(0, good));
  EXPECT_FALSE((*call)->add_remote_candidate(0, "a=" + good));
  EXPECT_FALSE((*call)->add_remote_candidate(0, good + std::string(300, ' ')));
  EXPECT_FALSE((*call)->add_remote_candidate(0, "candidate:1 1 UDP 1 127.0.0.1 5\n0 typ host"));
  EXPECT_FALSE((*call)->add_remote_candidate(0, "hello"));
  EXPECT_FALSE((*call)->add_remote_candidate(9, good));
  // Outside ice_networks: accepted as input, but ignored.
  EXPECT_TRUE((*call)->add_remote_candidate(0, "candidate:1 1 UDP 2013266431 192.0.2.1 50000 typ host"));
  (*call)->close();
}

// A group call's mesh in one process: three rooms (each with its own tone and recording), three
// calls between them. Each recording is the mix of the two others' tones, and nothing of its own.
TEST_F(MediaTest, ThreeRoomsInAMeshHearBothOthers) {
  const double tone[3] = {440, 660, 880};
  std::shared_ptr<RoomAudio> room[3];
  for (int i = 0; i < 3; ++i) {
    write_wav(dir / ("in" + std::to_string(i) + ".wav"), tone[i], 6.0);
    auto r = RoomAudio::create(
        {dir / ("in" + std::to_string(i) + ".wav"), dir / ("heard" + std::to_string(i) + ".wav")});
    ASSERT_TRUE(r) << r.error().message;
    room[i] = *r;
  }
  const std::pair<int, int> links[3] = {{0, 1}, {0, 2}, {1, 2}};
  Pair pairs[3];
  // However the test ends (an ASSERT returns early), every call is closed before any Pair goes: a
  // call's callbacks reach into the other side's Pair until it is closed.
  struct CloseAll {
    Pair* pairs;
    ~CloseAll() {
      for (int k = 0; k < 3; ++k)
        for (Side* s : {&pairs[k].a, &pairs[k].b})
          if (s->call) s->call->close();
    }
  } close_all{pairs};
  // One call after the other, as a node links a room: six ICE agents checking at once on a loaded
  // two-core machine failed now and then.
  for (int k = 0; k < 3; ++k) {
    Options oa = loopback(), ob = loopback();
    oa.room_audio = room[links[k].first];
    ob.room_audio = room[links[k].second];
    start(pairs[k], oa, ob);
    ASSERT_TRUE(pairs[k].a.wait_state(State::connected, 10s)) << pairs[k].a.last_detail;
    ASSERT_TRUE(pairs[k].b.wait_state(State::connected, 10s)) << pairs[k].b.last_detail;
  }
  std::this_thread::sleep_for(3000ms);
  for (auto& p : pairs) {
    EXPECT_GT(p.a.call->stats().audio_packets_received, 50u);
    p.a.call->close();
    p.b.call->close();
  }
  for (auto& r : room) r->close();
  for (int i = 0; i < 3; ++i) {
    int rate = 0;
    const auto x = read_wav(dir / ("heard" + std::to_string(i) + ".wav"), &rate);
    ASSERT_EQ(rate, RATE);
    ASSERT_GT(x.size(), static_cast<std::size_t>(2 * RATE)) << i;
    // The last two seconds: both others are in the mix by then.
    const std::vector<double> tail(x.end() - 2 * RATE, x.end());
    const double own = tone_power(tail, tone[i], rate);
    std::printf("room %d heard %zu samples:", i, x.size());
    for (int j = 0; j < 3; ++j) std::printf(" %.0f Hz %.2e", tone[j], tone_power(tail, tone[j], rate));
    std::printf("\n");
    for (int j = 0; j < 3; ++j) {
      if (j == i) continue;
      const double heard = tone_power(tail, tone[j], rate);
      EXPECT_GT(heard, 1e-4) << "room " << i << " does not hear " << tone[j];
      EXPECT_GT(heard, 100 * own) << "room " << i << " hears itself";
    }
  }
}

TEST_F(MediaTest, RoomAudioRefusesAFileItCannotPlay) {
  std::ofstream(dir / "text.wav") << "not a WAV file at all";
  auto bad = RoomAudio::create({(dir / "text.wav").string(), (dir / "out.wav").string()});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("text.wav"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(RoomAudio::create({(dir / "missing.wav").string(), (dir / "out.wav").string()}));
  write_wav(dir / "in.wav", 440, 0.2);
  EXPECT_FALSE(RoomAudio::create({(dir / "in.wav").string(), (dir / "no" / "out.wav").string()}));
}

TEST(MediaMixer, SumsPrimedSourcesWithClipping) {
  Mixer m(4, 16);
  std::int16_t out[4] = {7, 7, 7, 7};
  EXPECT_FALSE(m.pull(out, 4));  // nothing heard yet: no output (a recording starts at the first sound)
  EXPECT_EQ(out[0], 7);
  const int a = m.add_source(), b = m.add_source();
  const std::int16_t loud[4] = {30000, 30000, -30000, 100};
  const std::int16_t soft[4] = {1000, 5000, -5000, 1};
  m.push(a, loud, 3);  // not primed yet (3 < 4)
  EXPECT_FALSE(m.started());
  m.push(a, loud + 3, 1);
  m.push(b, soft, 4);
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[0], 31000);
  EXPECT_EQ(out[1], 32767);   // clipped
  EXPECT_EQ(out[2], -32768);  // clipped
  EXPECT_EQ(out[3], 101);
  // Half a block left: it plays, then the source ran dry and is silent until it primes again.
  m.push(a, loud, 2);
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[1], 30000);
  EXPECT_EQ(out[2], 0);
  m.push(a, loud, 2);  // 2 < 4: not primed yet
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[0], 0);
  m.push(a, loud + 2, 2);  // 4 buffered: primed
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[0], 30000);
  EXPECT_EQ(out[2], -30000);
  EXPECT_EQ(out[3], 100);
  // A source far ahead keeps only its newest primed worth.
  std::int16_t many[40];
  for (int i = 0; i < 40; ++i) many[i] = static_cast<std::int16_t>(i);
  m.push(b, many, 40);
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[0], 36);
  EXPECT_EQ(out[3], 39);
  m.remove_source(b);
  m.push(b, many, 40);  // ignored
  ASSERT_TRUE(m.pull(out, 4));
  EXPECT_EQ(out[0], 0);
}

TEST_F(MediaTest, WavWriterWritesAValidFileAndSizesAsItGoes) {
  WavWriter w;
  ASSERT_TRUE(w.open(dir / "w.wav"));
  std::vector<std::int16_t> second(RATE);
  for (int i = 0; i < RATE; ++i) second[i] = static_cast<std::int16_t>(i % 1000 - 500);
  w.write(second.data(), second.size());
  int rate = 0;
  EXPECT_EQ(read_wav(dir / "w.wav", &rate).size(), static_cast<std::size_t>(RATE));  // before close
  w.write(second.data(), 100);
  w.close();
  const auto x = read_wav(dir / "w.wav", &rate);
  EXPECT_EQ(rate, RATE);
  ASSERT_EQ(x.size(), static_cast<std::size_t>(RATE + 100));
  EXPECT_DOUBLE_EQ(x[1], -499 / 32768.0);
  EXPECT_FALSE(WavWriter().open((dir / "missing" / "w.wav").string()));
}

TEST(MediaNetworks, AddressFilter) {
  EXPECT_TRUE(address_allowed({"127.0.0.1"}, "127.0.0.1"));
  EXPECT_FALSE(address_allowed({"127.0.0.1"}, "127.0.0.2"));
  EXPECT_TRUE(address_allowed({"127.0.0.0/8"}, "127.1.2.3"));
  EXPECT_FALSE(address_allowed({"127.0.0.0/8"}, "128.0.0.1"));
  EXPECT_TRUE(address_allowed({"10.0.0.0/8", "fd00::/8"}, "fd12::1"));
  EXPECT_FALSE(address_allowed({"fd00::/8"}, "fe80::1"));
  EXPECT_FALSE(address_allowed({"127.0.0.0/33"}, "127.0.0.1"));
  EXPECT_FALSE(address_allowed({"127.0.0.1"}, "host.local"));
  EXPECT_FALSE(address_allowed({}, "127.0.0.1"));
}

}  // namespace
}  // namespace kith::media
