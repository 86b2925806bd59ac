#include "swarm/listen.hpp"

namespace kith::swarm {

Result<std::vector<base::HostPort>> parse_listen(std::string_view text) {
  std::vector<base::HostPort> out;
  for (const auto& item : base::split_list(text)) {
    auto entry = base::parse_ip_port(item, base::PortRule::allow_zero);
    // base's message gives the reason only; a setting's value is the user's own text, so name it.
    if (!entry) return fail(entry.error().code, "'" + item + "' is not IP:PORT: " + entry.error().message);
    out.push_back(std::move(*entry));
  }
  return out;
}

std::string listen_interfaces(const std::vector<base::HostPort>& entries, bool ssl) {
  std::string out;
  for (const auto& e : entries) out += (out.empty() ? "" : ",") + e.to_string() + (ssl ? "s" : "");
  return out;
}

}  // namespace kith::swarm
