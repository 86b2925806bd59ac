// `kith quarantine ...`, `kith report`, `kith reports`, and what `get` prints about safety.
// All through Backend::call, so they work the same against a daemon and a transient node.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {

std::string short_id(const std::string& id) { return id.substr(0, 8); }

void print_item(const nlohmann::json& item) {
  const auto q = safe_json(item);
  std::printf("%s  %-9s %-13s %s\n", short_id(q.value("id", "")).c_str(), q.value("state", "").c_str(),
              q.value("outcome", "").c_str(), q.value("name", "").c_str());
  std::printf("          %s\n", q.value("reason", "").c_str());
}

void print_item_details(const nlohmann::json& item) {
  const auto q = safe_json(item);
  std::printf("id           %s\n", q.value("id", "").c_str());
  std::printf("name         %s\n", q.value("name", "").c_str());
  std::printf("state        %s\n", q.value("state", "").c_str());
  std::printf("outcome      %s\n", q.value("outcome", "").c_str());
  if (!q.value("signature", "").empty()) std::printf("signature    %s\n", q.value("signature", "").c_str());
  std::printf("reason       %s\n", q.value("reason", "").c_str());
  std::printf("from         %s\n", q.value("source", "").c_str());
  if (q.contains("location")) std::printf("held in      %s\n", q.value("location", "").c_str());
  std::printf("release to   %s\n", q.value("destination", "").c_str());
  for (const auto& p : q.value("peers", nlohmann::json::array())) {
    std::printf("peer         %s %s\n", p.value("endpoint", "").c_str(), p.value("client", "").c_str());
  }
  for (const auto& f : q["details"].value("findings", nlohmann::json::array())) {
    std::string what;
    for (const auto& d : f.value("detections", nlohmann::json::array()))
      what += (what.empty() ? "" : ", ") + d.get<std::string>();
    if (f.contains("problem")) what += (what.empty() ? "" : "; ") + f.value("problem", "");
    if (f.contains("runnable"))
      what += (what.empty() ? "" : "; ") + std::string("runs code: ") + f.value("runnable", "");
    std::printf("file         %s: %s\n", f.value("path", "").c_str(), what.c_str());
  }
}

}  // namespace

int report_quarantined(const Context& ctx, Backend& backend, const std::string& id) {
  auto q = backend.call("GET", "/api/v1/quarantine/" + id);
  nlohmann::json item = q ? *q : nlohmann::json{{"id", id}, {"reason", "held by the safety check"}};
  const auto shown = safe_json(item);
  if (ctx.json) {
    print_json_line({{"event", "quarantined"},
                     {"id", id},
                     {"outcome", item.value("outcome", "")},
                     {"signature", item.value("signature", "")},
                     {"reason", item.value("reason", "")}});
  }
  std::fprintf(stderr,
               "kith: %s was quarantined, not released: %s\n"
               "      details: kith quarantine show %s; to release it anyway: kith quarantine release %s\n",
               shown.value("name", safe(id)).c_str(), shown.value("reason", "").c_str(),
               safe(short_id(id)).c_str(), safe(short_id(id)).c_str());
  return EXIT_QUARANTINED;
}

void print_runnable_note(const nlohmann::json& t) {
  const auto runnable = safe_json(t.value("runnable", nlohmann::json::array()));
  if (runnable.empty()) return;
  std::fprintf(stderr, "note: %zu file(s) can run code (e.g. %s); open them only if you trust the source\n",
               runnable.size(), runnable.front().get<std::string>().c_str());
}

void print_publisher(const nlohmann::json& p) {
  if (!p.value("signed", false)) {
    std::fprintf(stderr, "unsigned (no publisher signature on the link)\n");
  } else if (p.value("you", false)) {
    std::fprintf(stderr, "signed by you\n");
  } else {
    // Contacts (who a key belongs to) come later; until then every other key is unknown.
    std::fprintf(stderr, "signed by unknown key %s\n", safe(p.value("id", "")).c_str());
  }
}

int run_quarantine(Context& ctx, const std::string& action, const std::string& id, bool all) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  if (action == "list") {
    auto items = (*backend)->call("GET", std::string("/api/v1/quarantine") + (all ? "?all=true" : ""));
    if (!items) return report(ctx, items.error());
    if (ctx.json) {
      std::printf("%s\n", items->dump().c_str());
    } else if (items->empty()) {
      std::printf("nothing in quarantine\n");
    } else {
      for (const auto& q : *items) print_item(q);  // made terminal-safe there
    }
    return 0;
  }
  auto item = (*backend)->call("GET", "/api/v1/quarantine/" + id);
  if (!item) return report(ctx, item.error());
  const std::string full = item->value("id", id);
  if (action == "show") {
    if (ctx.json)
      std::printf("%s\n", item->dump().c_str());
    else
      print_item_details(*item);
    return 0;
  }
  auto r = action == "release" ? (*backend)->call("POST", "/api/v1/quarantine/" + full + "/release")
                               : (*backend)->call("DELETE", "/api/v1/quarantine/" + full);
  if (!r) return report(ctx, r.error());
  if (action == "release" && (*backend)->transient()) {
    // A transient node stops when this command ends: wait until the move is done.
    for (int i = 0; i < 600 && !interrupted(); ++i) {
      auto t = (*backend)->show(full);
      if (!t || t->value("released", false) || !t->value("error", "").empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (ctx.json)
    std::printf("%s\n", nlohmann::json({{"id", full}, {"action", action}, {"ok", true}}).dump().c_str());
  else
    std::printf("%s %s (%s)%s\n", action == "release" ? "released" : "deleted", safe(full).c_str(),
                safe(item->value("name", "")).c_str(),
                action == "release" ? (" to " + safe(item->value("destination", ""))).c_str() : "");
  return 0;
}

int run_report(Context& ctx, const std::string& id, const std::string& reason) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  nlohmann::json body{{"id", id}, {"reason", reason}};
  auto r = (*backend)->call("POST", "/api/v1/reports", &body);
  if (!r) return report(ctx, r.error());
  if (ctx.json)
    std::printf("%s\n", r->dump().c_str());
  else
    std::printf("report written to %s\n", safe(r->value("path", "")).c_str());
  return 0;
}

int run_reports(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto r = (*backend)->call("GET", "/api/v1/reports");
  if (!r) return report(ctx, r.error());
  if (ctx.json) {
    std::printf("%s\n", r->dump().c_str());
    return 0;
  }
  if (r->empty()) std::printf("no reports\n");
  for (const auto& rep : safe_json(*r)) {
    std::printf("%s  %s  %s: %s\n", rep.value("created_at", "").c_str(), rep.value("outcome", "").c_str(),
                rep.value("name", "").c_str(), rep.value("reason", "").c_str());
    std::printf("    %s\n", rep.value("path", "").c_str());
  }
  return 0;
}

}  // namespace kith::cli
