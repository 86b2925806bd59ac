#include "swarm/listen.hpp"

namespace kith::swarm {

Result<std::vector<base::HostPort>> parse_listen(std::string_view text) {
  std::vector<base::HostPort> out;
  for (const auto& item : base::split_list(text)) {
    auto entry = base::parse_ip_port(item, {.allow_zero = true});
    if (!entry) return tl::unexpected(entry.error());
    out.push_back(std::move(*entry));
  }
  return out;
}

std::string listen_interfaces(const std::vector<base::HostPort>& entries, bool ssl) {
  std::string out;
  for (const auto& e : entries) out += (out.empty() ? "" : ",") + e.text() + (ssl ? "s" : "");
  return out;
}

}  // namespace kith::swarm
