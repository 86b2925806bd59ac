// `kith call`, `kith answer`, `kith hangup`, `kith calls` (docs/cli.md § Calls). Calls need the
// daemon: it carries the signalling over the contact's channel; this process runs the media
// (call_endpoint.cpp) for as long as the call lasts.
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <vector>

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
std::string room_of(const nlohmann::json& c) { return c.value("room", std::string()); }

// The one room all of `calls` are in, or empty (not all in a room, or in several).
std::string common_room(const std::vector<nlohmann::json>& calls) {
  std::string room;
  for (const auto& c : calls) {
    if (room_of(c).empty() || (!room.empty() && room_of(c) != room)) return {};
    room = room_of(c);
  }
  return room;
}

std::vector<nlohmann::json> calls_that(const nlohmann::json& list, bool (*fits)(const nlohmann::json&)) {
  std::vector<nlohmann::json> out;
  for (const auto& c : list["calls"])
    if (fits(c)) out.push_back(c);
  return out;
}

// Leaves group call `room` (every live call of it ends) and says so; when we were only invited (every
// call of the room rings here), that is declining it.
int leave_room(Context& ctx, Backend& b, const std::string& room) {
  int rings = 0, in = 0;
  if (auto list = b.call("GET", "/api/v1/calls"); list)
    for (const auto& c : (*list)["calls"])
      if (room_of(c) == room && live(c)) ++(ringing(c) ? rings : in);
  const bool invited = rings > 0 && in == 0;
  auto r = b.call("POST", "/api/v1/calls/rooms/" + encode_segment(room) + "/hangup");
  if (!r) return report(ctx, r.error());
  const int ended = r->value("ended", 0);
  if (ctx.json)
    std::printf("%s\n",
                nlohmann::json{{"room", room}, {"ended", ended}, {"declined", invited}}.dump().c_str());
  else if (invited)
    std::printf("declined the group call %s\n", room.substr(0, 8).c_str());
  else
    std::printf("left the group call %s (%d call%s ended)\n", room.substr(0, 8).c_str(), ended,
                ended == 1 ? "" : "s");
  return 0;
}

}  // namespace

int run_call(Context& ctx, const std::vector<std::string>& who, const std::string& room,
             const MediaArgs& media) {
  if (who.empty())
    return report(ctx, bad_input("name the contact to call (kith call bob), or several for a group call"));
  if (!room.empty() && who.size() > 1)
    return report(ctx, bad_input("--room joins a group call through one of its participants: name one "
                                 "(kith call bob --room " +
                                 room + ")"));
  media::prepare();  // while the node is asked and the contacts' devices ring
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  if (who.size() == 1) {
    nlohmann::json body{{"contact", who.front()}, {"video", media.video}};
    if (!room.empty()) body["room"] = room;
    auto call = (*backend)->call("POST", "/api/v1/calls", &body);
    if (!call) return report(ctx, call.error());
    const auto in_room = room_of(*call);
    return run_call_endpoint(ctx, **backend, in_room, {std::move(*call)}, media);
  }
  // A group call: the node places one call per contact in a fresh room.
  nlohmann::json body{{"contacts", who}, {"video", media.video}};
  auto started = (*backend)->call("POST", "/api/v1/calls", &body);
  if (!started) return report(ctx, started.error());
  const auto new_room = started->value("room", std::string());
  if (ctx.json) {
    print_json_line(*started);
  } else {
    for (const auto& u : safe_json(started->value("unreachable", nlohmann::json::array())))
      std::fprintf(stderr, "%s: %s\n", u.value("contact", std::string()).c_str(),
                   u.value("error", std::string()).c_str());
    std::fprintf(stderr,
                 "group call %s: ringing %zu contact%s (Ctrl-C or `kith hangup --room %s` leaves it)\n",
                 new_room.substr(0, 8).c_str(), (*started)["calls"].size(),
                 (*started)["calls"].size() == 1 ? "" : "s", new_room.substr(0, 8).c_str());
  }
  std::vector<nlohmann::json> calls((*started)["calls"].begin(), (*started)["calls"].end());
  if (calls.empty() || new_room.empty())
    return report(ctx, Error{base::make_error_code(base::errc::unavailable), "no one could be called"});
  return run_call_endpoint(ctx, **backend, new_room, std::move(calls), media);
}

int run_answer(Context& ctx, const std::string& id, const MediaArgs& media, int wait_s) {
  media::prepare();  // GStreamer and the DTLS certificate start while the call is found and answered
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  if (wait_s > 0 && id.empty()) {
    // Waiting with the endpoint ready (GStreamer loaded, its DTLS key made), as a softphone does: the
    // ring is answered within one poll, and setup does not wait for this process to start.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
    while (true) {
      auto list = (*backend)->call("GET", "/api/v1/calls");
      if (!list) return report(ctx, list.error());
      if (!calls_that(*list, ringing).empty()) break;
      if (interrupted())
        return report(ctx,
                      Error{base::make_error_code(base::errc::unavailable), "stopped waiting for a call"});
      if (std::chrono::steady_clock::now() >= until)
        return report(ctx, Error{base::make_error_code(base::errc::unavailable),
                                 "no call rang within " + std::to_string(wait_s) + " s"});
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Result<nlohmann::json> call = tl::unexpected(Error{});
  if (id.empty()) {
    // Two participants of one group call may ring us at once: answering one answers both.
    auto list = (*backend)->call("GET", "/api/v1/calls");
    if (!list) return report(ctx, list.error());
    const auto rings = calls_that(*list, ringing);
    if (rings.size() > 1 && !common_room(rings).empty()) call = rings.front();
  }
  if (!call) call = find_call(**backend, id, ringing, "ringing");
  if (!call) return report(ctx, call.error());
  const auto cid = call->value("id", std::string());
  if (auto r = (*backend)->call("POST", "/api/v1/calls/" + cid + "/answer"); !r)
    return report(ctx, r.error());
  auto now = (*backend)->call("GET", "/api/v1/calls/" + cid);
  if (!now) return report(ctx, now.error());
  const auto room = room_of(*now);
  return run_call_endpoint(ctx, **backend, room, {std::move(*now)}, media);
}

int run_hangup(Context& ctx, const std::string& id, const std::string& room) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  if (!room.empty()) {
    // A unique prefix of a room we have calls in, as `kith calls` shows it; else the room as given.
    auto list = (*backend)->call("GET", "/api/v1/calls");
    if (!list) return report(ctx, list.error());
    std::set<std::string> rooms;
    for (const auto& c : (*list)["calls"])
      if (room_of(c).rfind(room, 0) == 0 && live(c)) rooms.insert(room_of(c));
    if (rooms.size() > 1)
      return report(ctx, bad_input("'" + room + "' names several group calls: give more of it"));
    if (rooms.empty())
      return report(ctx, Error{base::make_error_code(base::errc::not_found),
                               "you are in no group call " + room + " (see kith calls)"});
    return leave_room(ctx, **backend, *rooms.begin());
  }
  if (id.empty()) {
    // Several live calls, all of one group call: hanging up is leaving it.
    auto list = (*backend)->call("GET", "/api/v1/calls");
    if (!list) return report(ctx, list.error());
    const auto lives = calls_that(*list, live);
    if (lives.size() > 1)
      if (auto r = common_room(lives); !r.empty()) return leave_room(ctx, **backend, r);
  }
  auto call = find_call(**backend, id, live, "live");
  if (!call) return report(ctx, call.error());
  if (!room_of(*call).empty()) return leave_room(ctx, **backend, room_of(*call));
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

namespace {
// "group call 1a2b3c4d: bob (active), carol (connecting); also there: dave (not your contact)" for each
// room we are in or are invited to: whom we have a call with, and whom their rosters name besides.
void print_rooms(Backend& b, const nlohmann::json& calls) {
  std::map<std::string, std::vector<nlohmann::json>> rooms;  // the room's live calls
  for (const auto& c : calls)
    if (!room_of(c).empty() && live(c)) rooms[room_of(c)].push_back(safe_json(c));
  if (rooms.empty()) return;
  std::map<std::string, std::string> names;  // kith ID -> contact name
  if (auto contacts = b.call("GET", "/api/v1/contacts"); contacts && contacts->is_array())
    for (const auto& c : safe_json(*contacts))
      names[c.value("id", std::string())] = c.value("name", std::string());
  for (const auto& [room, members] : rooms) {
    std::string line = "group call " + room.substr(0, 8) + ":";
    std::set<std::string> with;
    const char* sep = " ";
    for (const auto& c : members) {
      line += sep + c["contact"].value("name", std::string()) + " (" + c.value("state", std::string()) + ")";
      with.insert(c["contact"].value("id", std::string()));
      sep = ", ";
    }
    std::string also;
    std::set<std::string> named;
    for (const auto& c : members)
      for (const auto& m : c.value("roster", nlohmann::json::array())) {
        if (!m.is_string()) continue;
        const auto id = safe(m.get<std::string>());
        if (with.count(id) || !named.insert(id).second) continue;
        const auto name = names.find(id);
        also +=
            (also.empty() ? "" : ", ") + (name != names.end() ? name->second + " (no call with them yet)"
                                                              : id.substr(0, 12) + "… (not your contact)");
      }
    if (!also.empty()) line += "; also there: " + also;
    std::printf("%s\n", line.c_str());
  }
}
}  // namespace

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
    std::printf("no calls yet (kith call NAME starts one, kith call NAME NAME… a group call)\n");
    return 0;
  }
  std::printf("%-10s %-10s %-8s %-20s %-16s %s\n", "ID", "STATE", "WAY", "CONTACT", "STARTED", "NOTE");
  for (const auto& raw : calls) {
    const auto c = safe_json(raw);  // names and reasons come from contacts: nothing raw to the terminal
    auto note = c.value("end_reason", std::string());
    if (c.value("state", "") == "calling" && c.value("remote_ringing", false)) note = "their device rings";
    if (c.value("state", "") == "ringing") note = "kith answer " + c.value("id", std::string()).substr(0, 8);
    if (!room_of(c).empty())
      note = "group " + room_of(c).substr(0, 8) + (c.value("link", false) ? " link" : "") +
             (note.empty() ? "" : "; " + note);
    std::printf("%-10s %-10s %-8s %-20s %-16s %s\n", c.value("id", std::string()).substr(0, 8).c_str(),
                c.value("state", std::string()).c_str(), c.value("direction", std::string()).c_str(),
                c["contact"].value("name", std::string()).substr(0, 20).c_str(),
                format_time(c.value("started_ms", std::int64_t{0}) / 1000).c_str(), note.c_str());
  }
  print_rooms(**backend, calls);
  return 0;
}

}  // namespace kith::cli
