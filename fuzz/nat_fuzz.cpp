// Fuzzes what peers tell a node about its own address and what reaches its channel listener first
// (src/net): relay preambles, and observations ("observed" in Hello) fed to the NAT classifier.
// Invariants: a preamble parses only at its exact size with the magic, and back to the same bytes; the
// classifier never publishes an address it was not told nor one on a private network, and never counts
// more observers than it was given.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/nat.hpp"
#include "net/relay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kith::net;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  RelayToken token{};
  if (parse_relay_preamble(input, token)) {
    if (input.size() != RELAY_PREAMBLE_SIZE || relay_preamble(token) != input) std::abort();
  }
  // Lines of "observer local observed".
  std::vector<Observation> observations;
  std::string line;
  for (char c : std::string(input) + "\n") {
    if (c != '\n') {
      line += c;
      continue;
    }
    const auto a = line.find(' '), b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b != std::string::npos)
      observations.push_back({line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
    line.clear();
  }
  const auto report = classify_nat(observations, {"10.0.0.5"}, 6882);
  if (report.observers > static_cast<int>(observations.size())) std::abort();
  for (const auto& ip : report.public_ips)
    if (is_private_ip(ip)) std::abort();
  if (report.type == NatType::endpoint_independent)
    for (const auto& a : report.public_addresses) {
      bool told = false;
      for (const auto& o : observations) told |= o.observed == a;
      if (!told) std::abort();
    }
  return 0;
}
