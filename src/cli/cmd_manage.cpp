// `kith list|show|pause|resume|remove|status|settings`: inspecting and steering a node.
#include <cstdio>

#include "base/terminal.hpp"
#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {}  // namespace

int run_list(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto list = (*backend)->list();
  if (!list) return report(ctx, list.error());
  if (ctx.json)
    std::printf("%s\n", list->dump().c_str());
  else
    print_transfer_table(*list);
  return 0;
}

int run_show(Context& ctx, const std::string& id) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto t = (*backend)->show(id);
  if (!t) return report(ctx, t.error());
  if (ctx.json)
    std::printf("%s\n", t->dump().c_str());
  else
    print_transfer_details(*t);
  return 0;
}

int run_control(Context& ctx, const std::string& action, const std::string& id, bool delete_data) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  // Resolve a short id to the full one first, so the output names what was acted on.
  auto t = (*backend)->show(id);
  if (!t) return report(ctx, t.error());
  const std::string full = t->value("id", id);
  Status r = action == "pause"    ? (*backend)->pause(full)
             : action == "resume" ? (*backend)->resume(full)
                                  : (*backend)->remove(full, delete_data);
  if (!r) return report(ctx, r.error());
  if (ctx.json)
    std::printf("%s\n", nlohmann::json({{"id", full}, {"action", action}, {"ok", true}}).dump().c_str());
  else
    std::printf("%s %s (%s)\n",
                action == "remove"  ? "removed"
                : action == "pause" ? "paused"
                                    : "resumed",
                safe(full).c_str(), safe(t->value("name", "")).c_str());
  return 0;
}

int run_status(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto s = (*backend)->status();
  if (!s) return report(ctx, s.error());
  (*s)["daemon"] = !(*backend)->transient();
  if (ctx.json) {
    std::printf("%s\n", s->dump().c_str());
    return 0;
  }
  *s = safe_json(*s);  // a scanner's reason quotes libclamav and file names
  std::printf("node id      %s\n", s->value("node_id", "").c_str());
  std::printf("your id      %s\n", s->value("user_id", "").c_str());
  std::printf("version      %s\n", s->value("version", "").c_str());
  std::printf("home         %s\n", s->value("home", "").c_str());
  std::printf("daemon       %s\n",
              (*backend)->transient() ? "not running (this was a transient node)" : "running");
  if (s->contains("api_port")) std::printf("api port     %d\n", s->value("api_port", 0));
  std::printf("bt port      %d\n", s->value("bt_port", 0));
  const auto& dht = (*s)["dht"];
  std::printf("dht          %s, %d nodes\n",
              dht.value("running", false) ? "running" : (dht.value("enabled", false) ? "starting" : "off"),
              dht.value("nodes", 0));
  std::printf("lsd          %s\n", s->value("lsd", false) ? "on" : "off");
  std::printf("rates        down %s, up %s\n",
              format_rate(s->value("download_rate", std::int64_t{0})).c_str(),
              format_rate(s->value("upload_rate", std::int64_t{0})).c_str());
  std::printf("transfers    %d\n", s->value("transfers", 0));
  const auto safety = s->value("safety", nlohmann::json::object());
  const std::string scanner = safety.value("scanner", "");
  if (scanner == "ready")
    std::printf("scanner      ClamAV, %d signatures\n", safety.value("signatures", 0));
  else if (scanner == "unavailable")
    std::printf("scanner      UNAVAILABLE: %s (downloads stay in quarantine)\n",
                safety.value("reason", "").c_str());
  else
    std::printf("scanner      %s\n", scanner.c_str());
  std::printf("quarantined  %d (kith quarantine list)\n", s->value("quarantined", 0));
  if (s->contains("messaging") && (*s)["messaging"].is_object()) {
    const auto& m = (*s)["messaging"];
    const auto nat = m.value("nat", nlohmann::json::object());
    const std::string type = nat.value("type", "unknown");
    std::string reach = type == "none"                   ? "no NAT (reachable directly)"
                        : type == "endpoint-independent" ? "endpoint-independent (hole punching can work)"
                        : type == "endpoint-dependent"
                            ? "endpoint-dependent (contacts reach you through relays)"
                            : "not known yet (needs channels with two public peers)";
    std::printf("nat          %s\n", reach.c_str());
    std::string ips;
    for (const auto& ip : nat.value("public_ips", nlohmann::json::array()))
      ips += (ips.empty() ? "" : ", ") + ip.get<std::string>();
    if (!ips.empty()) std::printf("public ip    %s\n", ips.c_str());
    std::string addrs;
    for (const auto& a : m.value("addresses", nlohmann::json::array()))
      addrs += (addrs.empty() ? "" : ", ") + a.get<std::string>();
    std::printf("advertised   %s\n", addrs.empty() ? "(none)" : addrs.c_str());
    const auto relay = m.value("relay", nlohmann::json::object());
    if (relay.value("enabled", false))
      std::printf("relay        on: %d of %d circuits, %s relayed, %d refused; %d of your channels relayed\n",
                  relay.value("circuits", 0), relay.value("max_circuits", 0),
                  format_bytes(relay.value("bytes", std::int64_t{0})).c_str(), relay.value("refused", 0),
                  relay.value("relayed_channels", 0));
    else
      std::printf("relay        off; %d of your channels relayed\n", relay.value("relayed_channels", 0));
    const auto turn = m.value("turn", nlohmann::json::object());
    const std::string server = turn.value("server", "");
    if (!server.empty()) {
      const std::string state = turn.value("state", ""), address = turn.value("address", "");
      std::printf("turn         %s: %s%s; %d of your channels through it\n",
                  base::terminal_safe(server).c_str(), base::terminal_safe(state).c_str(),
                  address.empty() ? "" : (", relayed address " + base::terminal_safe(address)).c_str(),
                  turn.value("channels", 0));
    }
  }
  return 0;
}

int run_settings(Context& ctx) {
  auto all = ctx.settings.to_json();
  if (ctx.json) {
    std::printf("%s\n", all.dump().c_str());
    return 0;
  }
  for (const auto& s : all) {
    std::printf("%s (%s)\n    value:   %s\n    default: %s\n    %s\n",
                safe(s["name"].get<std::string>()).c_str(), s["type"].get<std::string>().c_str(),
                safe(s["value"].dump()).c_str(), s["default"].dump().c_str(),
                s["description"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace kith::cli
