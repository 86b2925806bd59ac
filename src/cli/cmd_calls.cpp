// `kith call`, `kith answer`, `kith hangup`, `kith calls` (docs/cli.md § Calls). Calls need the
// daemon: it carries the signalling over the contact's channel; this process runs the media
// (call_endpoint.cpp) for as long as the call lasts.
#include <cstdio>

#include "base/error.hpp"
#include "cli/backend.hpp"
#include "cli/call_endpoint.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "media/call.hpp"

namespace kith::cli {
namespace {

Error bad_input(std::string message) {
  return Error{base::make_error_code(base::errc::bad_input), std::move(message)};
}

// The call `id` names (a unique prefix of its id is enough), or when `id` is empty the one call that
// `fits` (e.g. the ringing one); an error saying what to do otherwise.
template <class Fits>
Result<nlohmann::json> find_call(Backend& b, const std::string& id, Fits fits, const char* what) {
  auto list = b.call("GET", "/api/v1/calls");
  if (!list) return list;
  std::vector<nlohmann::json> found;
  for (const auto& c : (*list)["calls"]) {
    const auto cid = c.value("id", std::string());
    if (id.empty() ? fits(c) : cid.rfind(id, 0) == 0) found.push_back(c);
  }
  if (found.size() == 1) return found.front();
  if (found.empty())
    return tl::unexpected(Error{base::make_error_code(base::errc::not_found),
                                id.empty() ? std::string("no call is ") + what + " (see kith calls)"
                                           : "no call " + id + " (see kith calls)"});
  return tl::unexpected(bad_input(id.empty()
                                      ? std::string("several calls are ") + what + ": name one (kith calls)"
                                      : "'" + id + "' names several calls: give more of the id"));
}

bool ringing(const nlohmann::json& c) {
  return c.value("state", "") == "ringing" && c.value("direction", "") == "incoming";
}
bool live(const nlohmann::json& c) { return c.value("state", "") != "ended"; }

}  // namespace

int run_call(Context& ctx, const std::string& who, const MediaArgs& media) {
  media::prepare();  // while the node is asked and the contact's devices ring
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  nlohmann::json body{{"contact", who}, {"video", media.video}};
  auto call = (*backend)->call("POST", "/api/v1/calls", &body);
  if (!call) return report(ctx, call.error());
  return run_call_endpoint(ctx, **backend, std::move(*call), media);
}

int run_answer(Context& ctx, const std::string& id, const MediaArgs& media) {
  media::prepare();  // GStreamer and the DTLS certificate start while the call is found and answered
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto call = find_call(**backend, id, ringing, "ringing");
  if (!call) return report(ctx, call.error());
  const auto cid = call->value("id", std::string());
  if (auto r = (*backend)->call("POST", "/api/v1/calls/" + cid + "/answer"); !r)
    return report(ctx, r.error());
  auto now = (*backend)->call("GET", "/api/v1/calls/" + cid);
  if (!now) return report(ctx, now.error());
  return run_call_endpoint(ctx, **backend, std::move(*now), media);
}

int run_hangup(Context& ctx, const std::string& id) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto call = find_call(**backend, id, live, "live");
  if (!call) return report(ctx, call.error());
  const auto cid = call->value("id", std::string());
  if (auto r = (*backend)->call("POST", "/api/v1/calls/" + cid + "/hangup"); !r)
    return report(ctx, r.error());
  auto now = (*backend)->call("GET", "/api/v1/calls/" + cid);
  if (ctx.json)
    std::printf("%s\n", (now ? *now : nlohmann::json{{"id", cid}}).dump().c_str());
  else
    std::printf("%s\n",
                now ? ("call ended: " + safe(now->value("end_reason", std::string()))).c_str() : "hung up");
  return 0;
}

int run_calls(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto list = (*backend)->call("GET", "/api/v1/calls");
  if (!list) return report(ctx, list.error());
  if (ctx.json) {
    std::printf("%s\n", list->dump().c_str());
    return 0;
  }
  const auto& calls = (*list)["calls"];
  if (calls.empty()) {
    std::printf("no calls yet (kith call NAME starts one)\n");
    return 0;
  }
  std::printf("%-10s %-10s %-8s %-20s %-16s %s\n", "ID", "STATE", "WAY", "CONTACT", "STARTED", "NOTE");
  for (const auto& raw : calls) {
    const auto c = safe_json(raw);  // names and reasons come from contacts: nothing raw to the terminal
    auto note = c.value("end_reason", std::string());
    if (c.value("state", "") == "calling" && c.value("remote_ringing", false)) note = "their device rings";
    if (c.value("state", "") == "ringing") note = "kith answer " + c.value("id", std::string()).substr(0, 8);
    std::printf("%-10s %-10s %-8s %-20s %-16s %s\n", c.value("id", std::string()).substr(0, 8).c_str(),
                c.value("state", std::string()).c_str(), c.value("direction", std::string()).c_str(),
                c["contact"].value("name", std::string()).substr(0, 20).c_str(),
                format_time(c.value("started_ms", std::int64_t{0}) / 1000).c_str(), note.c_str());
  }
  return 0;
}

}  // namespace kith::cli
