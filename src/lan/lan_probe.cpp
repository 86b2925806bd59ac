// lan_probe: a test-only tool (tests/netlab) that runs LAN discovery with a fresh user and device key
// and prints one JSON object per line on stdout:
//   {"event":"started","user":HEX,"device":HEX}
//   {"event":"sighting","user":HEX,"device":HEX,"address":"198.18.0.12:4000","interface":"eth0"}
//   {"event":"stats","sent":N,...}                       (at exit)
// usage: lan_probe [--seconds S] [--port UDP] [--channel-port TCP] [--interval MS] [--no-ipv4] [--no-ipv6]
//        lan_probe --write-beacon FILE   (writes one valid beacon, e.g. a fuzz corpus seed, and exits)
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "base/hex.hpp"
#include "base/log.hpp"
#include "lan/discovery.hpp"

using namespace kith;

namespace {

std::string hex(const crypto::PublicKey& key) {
  return base::to_hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// Addresses and interface names never need more than this, but do not print broken JSON if they do.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

int usage() {
  std::fprintf(stderr,
               "usage: lan_probe [--seconds S] [--port UDP] [--channel-port TCP] [--interval MS] "
               "[--no-ipv4] [--no-ipv6] | --write-beacon FILE\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::string write_beacon;
  std::uint16_t channel_port = 4000;
  lan::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seconds" && has_value) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--port" && has_value) {
      options.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--channel-port" && has_value) {
      channel_port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (arg == "--interval" && has_value) {
      options.interval = std::chrono::milliseconds(std::atoi(argv[++i]));
    } else if (arg == "--write-beacon" && has_value) {
      write_beacon = argv[++i];
    } else if (arg == "--no-ipv4") {
      options.ipv4 = false;
    } else if (arg == "--no-ipv6") {
      options.ipv6 = false;
    } else {
      return usage();
    }
  }
  base::init_logging("info");
  auto user = crypto::SigningKey::generate();
  auto device = crypto::SigningKey::generate();
  if (!user || !device) {
    std::fprintf(stderr, "cannot generate keys\n");
    return 1;
  }
  const auto cert = identity::certify_device(*user, device->public_key());
  if (!write_beacon.empty()) {
    std::ofstream(write_beacon, std::ios::binary) << lan::encode_beacon(
        lan::Beacon{cert, channel_port, 1}, [&](std::string_view m) { return device->sign(m); });
    return 0;
  }
  std::printf("{\"event\":\"started\",\"user\":\"%s\",\"device\":\"%s\"}\n", hex(cert.user).c_str(),
              hex(cert.device).c_str());
  std::fflush(stdout);

  boost::asio::io_context io;
  lan::Discovery discovery(
      io, options, cert, channel_port, [&](std::string_view m) { return device->sign(m); },
      [](const lan::Sighting& s) {
        std::printf(
            "{\"event\":\"sighting\",\"user\":\"%s\",\"device\":\"%s\",\"address\":%s,\"interface\":%s}\n",
            hex(s.cert.user).c_str(), hex(s.cert.device).c_str(), json_string(s.address).c_str(),
            json_string(s.interface).c_str());
        std::fflush(stdout);
      });
  if (auto s = discovery.start(); !s) {
    std::fprintf(stderr, "lan_probe: %s\n", s.error().message.c_str());
    return 1;
  }
  boost::asio::steady_timer stop_timer(io, std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
  stop_timer.async_wait([&](boost::system::error_code) { discovery.stop(); });
  io.run();
  const auto st = discovery.stats();
  std::printf(
      "{\"event\":\"stats\",\"sent\":%llu,\"send_errors\":%llu,\"received\":%llu,\"accepted\":%llu,"
      "\"ignored_own\":%llu,\"rejected_bad\":%llu,\"dropped_rate\":%llu,\"dropped_replay\":%llu}\n",
      static_cast<unsigned long long>(st.sent), static_cast<unsigned long long>(st.send_errors),
      static_cast<unsigned long long>(st.received), static_cast<unsigned long long>(st.accepted),
      static_cast<unsigned long long>(st.ignored_own), static_cast<unsigned long long>(st.rejected_bad),
      static_cast<unsigned long long>(st.dropped_rate), static_cast<unsigned long long>(st.dropped_replay));
  return 0;
}
