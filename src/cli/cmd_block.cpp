// `kith block add|remove|list|reload`: the local block list (info-hashes, peer IDs) and the IP filter.
#include <cstdio>

#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {

// Exactly one of HASH and --peer-id; returns {kind, value}.
Result<std::pair<std::string, std::string>> target(const BlockArgs& args) {
  if (args.hash.empty() == args.peer_id.empty()) {
    return fail(base::make_error_code(base::errc::bad_input),
                "give an info-hash or --peer-id ID (one of them)");
  }
  if (!args.hash.empty()) return std::pair<std::string, std::string>{"info_hash", args.hash};
  return std::pair<std::string, std::string>{"peer_id", args.peer_id};
}

void print_ip_filter(const nlohmann::json& raw) {
  const auto summary = safe_json(raw);  // a bad line of a downloaded list is quoted as it was
  const auto files = summary.value("files", nlohmann::json::array());
  if (files.empty()) {
    std::printf("ip filter: none (setting safety.ipfilter)\n");
    return;
  }
  std::printf("ip filter: %d blocked ranges\n", summary.value("ranges", 0));
  for (const auto& f : files) {
    std::printf("  %s (%s): %d ranges, %d allowed lines, %d bad lines%s%s\n", f.value("path", "").c_str(),
                f.value("format", "").c_str(), f.value("ranges", 0), f.value("allowed", 0),
                f.value("bad_lines", 0), f.value("bad_lines", 0) ? "; first: " : "",
                f.value("first_error", "").c_str());
  }
}

}  // namespace

int run_block(Context& ctx, const std::string& action, const BlockArgs& args) {
  std::pair<std::string, std::string> what;
  if (action == "add" || action == "remove") {
    auto t = target(args);
    if (!t) return report(ctx, t.error());
    what = *t;
  }
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  if (action == "add") {
    nlohmann::json body{{"kind", what.first}, {"value", what.second}, {"reason", args.reason}};
    auto added = (*backend)->call("POST", "/api/v1/blocklist", &body);
    if (!added) return report(ctx, added.error());
    if (ctx.json) {
      std::printf("%s\n", added->dump().c_str());
      return 0;
    }
    const auto shown = safe_json(*added);
    std::printf("blocked %s %s\n", shown.value("kind", "").c_str(), shown.value("value", "").c_str());
    for (const auto& id : shown.value("removed", nlohmann::json::array())) {
      std::printf("removed transfer %s (staged data deleted; released files kept)\n",
                  id.get<std::string>().c_str());
    }
    return 0;
  }
  if (action == "remove") {
    auto r =
        (*backend)->call("DELETE", "/api/v1/blocklist/" + what.first + "/" + encode_segment(what.second));
    if (!r) return report(ctx, r.error());
    if (ctx.json)
      std::printf(
          "%s\n",
          nlohmann::json({{"kind", what.first}, {"value", what.second}, {"ok", true}}).dump().c_str());
    else
      std::printf("unblocked %s %s\n", what.first.c_str(), safe(what.second).c_str());
    return 0;
  }
  if (action == "reload") {
    auto summary = (*backend)->call("POST", "/api/v1/blocklist/reload");
    if (!summary) return report(ctx, summary.error());
    if (ctx.json)
      std::printf("%s\n", summary->dump().c_str());
    else
      print_ip_filter(*summary);
    return 0;
  }
  auto list = (*backend)->call("GET", "/api/v1/blocklist");
  if (!list) return report(ctx, list.error());
  if (ctx.json) {
    std::printf("%s\n", list->dump().c_str());
    return 0;
  }
  const auto entries = safe_json((*list)["entries"]);
  if (entries.empty()) std::printf("block list: empty\n");
  for (const auto& e : entries) {
    std::printf("%-9s  %-64s  %s  %s\n", e.value("kind", "").c_str(), e.value("value", "").c_str(),
                format_time(e.value("added_at", std::int64_t{0})).c_str(), e.value("reason", "").c_str());
  }
  print_ip_filter(list->value("ip_filter", nlohmann::json::object()));
  return 0;
}

}  // namespace kith::cli
