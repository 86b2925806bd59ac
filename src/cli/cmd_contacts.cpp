// `kith id` and `kith contacts ...`: who you are and who you know (docs/cli.md § Contacts).
#include <cstdio>

#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

std::string state_line(const nlohmann::json& c) {
  const auto state = c.value("state", "");
  if (state == "outgoing") return "asked, waiting for them to accept";
  if (state == "incoming") return "asks to be your contact";
  if (state == "blocked") return "blocked";
  if (c.value("online", false)) {
    const auto path = c.value("path", std::string("direct"));  // relayed: the address is the relay's
    return "online (" + c.value("via", std::string("?")) + ", " + (path == "direct" ? "" : path + ", ") +
           c.value("address", std::string()) + ")";
  }
  const auto last = c.value("last_seen", nlohmann::json());
  return last.is_number() ? "offline, last seen " + format_time(last.get<std::int64_t>())
                          : "offline, never seen";
}

void print_contacts(const nlohmann::json& contacts, const char* empty) {
  const auto list = safe_json(contacts);  // names and notes are what the other side chose
  if (list.empty()) std::printf("%s\n", empty);
  for (const auto& c : list) {
    std::printf("%-20s  %-36s  %s\n", c.value("name", "").c_str(), state_line(c).c_str(),
                c.value("id", "").c_str());
    if (c.contains("note") && c.value("state", "") == "incoming")
      std::printf("%-20s  \"%s\"\n", "", c.value("note", "").c_str());
    if (c.value("unread", 0) > 0)
      std::printf("%-20s  %d unread (kith chat %s)\n", "", c.value("unread", 0), c.value("name", "").c_str());
  }
}

}  // namespace

int run_id(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto id = (*backend)->call("GET", "/api/v1/id");
  if (!id) return report(ctx, id.error());
  if (ctx.json) {
    print_json(*id);
    return 0;
  }
  const auto shown = safe_json(*id);
  std::printf("kith ID: %s\nname:    %s\ninvite:  %s\n", shown.value("id", "").c_str(),
              shown.value("name", "").c_str(), shown.value("invite", "").c_str());
  // Folder sync's Syncthing-form ID: what a Syncthing user (or `kith sync device add`) adds. Daemon only.
  if (id->contains("device_id")) std::printf("device ID: %s\n", shown.value("device_id", "").c_str());
  if (id->value("addresses", nlohmann::json::array()).empty())
    std::fprintf(stderr,
                 "(the invite has no addresses while no daemon runs: contacts find you by LAN or DHT)\n");
  return 0;
}

int run_contacts(Context& ctx, const ContactsArgs& a) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto& b = **backend;
  const std::string who = "/api/v1/contacts/" + encode_segment(a.who);
  Result<nlohmann::json> r = nlohmann::json();
  std::string done;  // what to print on success, when not listing
  if (a.action == "add") {
    nlohmann::json body{{"invite", a.who}, {"name", a.name}, {"message", a.message}};
    r = b.call("POST", "/api/v1/contacts", &body);
    if (r) {
      const auto state = r->value("state", "");
      done = state == "accepted" ? r->value("name", "") + " is now your contact (they had asked you)"
                                 : "asked " + r->value("name", "") + " (" + r->value("id", "") +
                                       "); they appear as a contact once they accept";
    }
  } else if (a.action == "requests") {
    r = b.call("GET", "/api/v1/contacts/requests");
    if (r && !ctx.json) print_contacts(*r, "no contact requests");
  } else if (a.action == "accept") {
    r = b.call("POST", who + "/accept");
    if (r) done = r->value("name", "") + " is now your contact";
  } else if (a.action == "decline") {
    r = b.call("POST", who + "/decline");
    if (r) done = "declined (they are not told)";
  } else if (a.action == "block") {
    r = b.call("POST", who + "/block");
    if (r) done = "blocked " + a.who + ": their channels are refused";
  } else if (a.action == "remove") {
    r = b.call("DELETE", who);
    if (r) done = "removed " + a.who;
  } else if (a.action == "rename") {
    nlohmann::json body{{"name", a.value}};
    r = b.call("PUT", who + "/name", &body);
    if (r) done = "renamed " + a.who + " to " + a.value;
  } else if (a.action == "addr") {
    nlohmann::json body{{"address", a.value}};
    r = b.call("POST", who + "/addresses", &body);
    if (r) done = "will try " + a.value + " for " + a.who;
  } else if (a.action == "show") {
    r = b.call("GET", who);
    if (r && !ctx.json) {
      print_contacts(nlohmann::json::array({*r}), "");
      const auto shown = safe_json(*r);
      for (const auto& addr : shown.value("addrs", nlohmann::json::array()))
        std::printf("%-20s  address hint %s\n", "", addr.get<std::string>().c_str());
      for (const auto& d : shown.value("discovered", nlohmann::json::array()))
        std::printf("%-20s  found by %s at %s\n", "", d.value("source", "").c_str(),
                    d.value("address", "").c_str());
    }
  } else {
    r = b.call("GET", "/api/v1/contacts");
    if (r && !ctx.json)
      print_contacts(*r, "no contacts yet: give someone your invite (`kith id`) or add theirs");
  }
  if (!r) return report(ctx, r.error());
  if (ctx.json)
    print_json(*r);
  else if (!done.empty())
    std::printf("%s\n", safe(done).c_str());  // may hold the name an invite or a contact chose
  return 0;
}

}  // namespace kith::cli
