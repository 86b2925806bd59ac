// The endpoint's loop (call_endpoint.hpp): one CallLink per live call, one media::RoomAudio for all of
// them (one microphone or file sent on every call, one speaker or recording for the mix of everyone).
// This thread alone talks to the node: it steps each link, and in a group call asks the node now and
// then for calls of the room it does not run yet.
#include "cli/call_endpoint.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/call_link.hpp"
#include "cli/output.hpp"
#include "media/call.hpp"
#include "media/room_audio.hpp"

namespace kith::cli {
namespace {

using namespace std::chrono_literals;

// Polling the node on loopback every 20 ms costs little and keeps call setup quick. Once every call
// runs, only hang-ups and new participants are left to notice, and a group call has a poll per
// call: 100 ms then.
constexpr auto POLL_SETUP = 20ms;
constexpr auto POLL_RUNNING = 100ms;
// How often a group call's endpoint looks for new calls of its room (links the node placed or
// answered when someone's roster named a new participant).
constexpr auto DISCOVER = 200ms;

std::string duration(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(ms / 60000),
                static_cast<long long>(ms / 1000 % 60));
  return buf;
}

std::string room_tag(const std::string& room) { return room.substr(0, 8); }

void print_state(const Context& ctx, const nlohmann::json& call, const std::string& room) {
  if (ctx.json) return print_json_line({{"call", call}});
  const auto name = safe(call["contact"].value("name", std::string()));
  const auto state = call.value("state", std::string());
  const bool link = call.value("link", false);
  if (state == "calling")
    std::fprintf(stderr, "%s %s…\n", call.value("remote_ringing", false) ? "ringing" : "calling",
                 name.c_str());
  else if (state == "connecting")
    std::fprintf(stderr, link ? "connecting to %s…\n" : "answered: connecting to %s…\n", name.c_str());
  else if (state == "active" && room.empty())
    std::fprintf(stderr, "connected with %s (Ctrl-C or `kith hangup %s` ends the call)\n", name.c_str(),
                 call.value("id", std::string()).c_str());
  else if (state == "active")
    std::fprintf(stderr, "connected with %s (group call %s: Ctrl-C or `kith hangup --room %s` leaves it)\n",
                 name.c_str(), room_tag(room).c_str(), room_tag(room).c_str());
  else if (state == "ended" && room.empty())
    std::fprintf(stderr, "call ended: %s\n", safe(call.value("end_reason", std::string())).c_str());
  else if (state == "ended")
    std::fprintf(stderr, "call with %s ended: %s\n", name.c_str(),
                 safe(call.value("end_reason", std::string())).c_str());
}

nlohmann::json stats_json(const media::Stats& s) {
  nlohmann::json j{{"audio_packets_received", s.audio_packets_received},
                   {"audio_bytes_received", s.audio_bytes_received},
                   {"packets_lost", s.packets_lost},
                   {"video_frames_decoded", s.video_frames_decoded},
                   {"codecs", s.codecs}};
  if (s.round_trip_time) j["round_trip_ms"] = *s.round_trip_time * 1000.0;
  return j;
}

bool live(const nlohmann::json& c) {
  const auto s = c.value("state", std::string());
  return s == "calling" || s == "connecting" || s == "active";
}

// What the endpoint did over all its calls, for the summary.
struct Totals {
  media::Stats stats;
  int connected = 0;  // calls that ran
  std::int64_t first_connected_ms = 0, last_ended_ms = 0;

  void add(const nlohmann::json& call, const media::Stats& s, bool ran) {
    stats.audio_packets_received += s.audio_packets_received;
    stats.audio_bytes_received += s.audio_bytes_received;
    stats.packets_lost += s.packets_lost;
    stats.video_frames_decoded += s.video_frames_decoded;
    for (const auto& c : s.codecs)
      if (std::find(stats.codecs.begin(), stats.codecs.end(), c) == stats.codecs.end())
        stats.codecs.push_back(c);
    const auto connected = call.value("connected_ms", std::int64_t{0});
    const auto ended = call.value("ended_ms", std::int64_t{0});
    if (ran) ++this->connected;
    if (connected && (!first_connected_ms || connected < first_connected_ms)) first_connected_ms = connected;
    last_ended_ms = std::max(last_ended_ms, ended);
  }
};

}  // namespace

int run_call_endpoint(Context& ctx, Backend& backend, const std::string& room,
                      std::vector<nlohmann::json> calls, const MediaArgs& args) {
  // Ends the calls we were given (their contacts would otherwise wait for media that will not come).
  auto fail_all = [&](const Error& error) {
    for (const auto& c : calls) {
      nlohmann::json body{{"reason", error.message}};
      (void)backend.call("POST", "/api/v1/calls/" + c.value("id", std::string()) + "/failed", &body);
    }
    return report(ctx, error);
  };
  media::Options options;
  options.video = args.video;
  options.video_test_pattern = args.video_test;
  options.show_video = !args.video_test;
  if (auto config = backend.call("GET", "/api/v1/calls/config"); config)
    apply_call_config(*config, options);
  else
    return fail_all(config.error());
  auto audio = media::RoomAudio::create({args.send_audio, args.record});
  if (!audio) return fail_all(audio.error());
  options.room_audio = *audio;

  std::vector<std::unique_ptr<CallLink>> links;
  std::set<std::string> known;                   // call ids we run or ran (a glare's new id too)
  std::map<const CallLink*, std::string> shown;  // the state last printed per link
  Totals totals;
  Error last_error{};
  auto add = [&](nlohmann::json call) {
    known.insert(call.value("id", std::string()));
    auto link = CallLink::create(backend, std::move(call), options);
    if (!link) {
      last_error = link.error();
      if (!room.empty()) std::fprintf(stderr, "%s\n", link.error().message.c_str());  // the others go on
      return;
    }
    links.push_back(std::move(*link));
  };
  for (auto& c : calls) add(std::move(c));
  if (links.empty()) return report(ctx, last_error);

  bool hung_up = false;
  auto discovered = std::chrono::steady_clock::now();
  while (true) {
    if (interrupted() && !hung_up) {
      hung_up = true;
      bool left = false;
      if (!room.empty()) left = backend.call("POST", "/api/v1/calls/rooms/" + room + "/hangup").has_value();
      for (auto& link : links)
        if (!left)
          if (auto r = link->hang_up(backend); !r)
            std::fprintf(stderr, "hanging up: %s\n", r.error().message.c_str());
    }
    bool settling = false;
    for (auto it = links.begin(); it != links.end();) {
      CallLink& link = **it;
      auto now = link.step(backend);
      if (!now) {
        for (auto& l : links) l->close();
        (*audio)->close();
        return report(ctx, now.error());
      }
      known.insert(link.id());
      const auto state = now->value("state", std::string());
      const auto seen =
          now->value("id", std::string()) + state + (now->value("remote_ringing", false) ? "+" : "");
      if (shown[&link] != seen) {
        print_state(ctx, *now, room);
        shown[&link] = seen;
      }
      if (!link.ended()) {
        settling = settling || state != "active";
        ++it;
        continue;
      }
      const auto stats = link.close();
      totals.add(link.last(), stats, link.was_active());
      if (ctx.json) print_json_line({{"call", link.last()}, {"stats", stats_json(stats)}});
      shown.erase(&link);
      it = links.erase(it);
    }
    // A group call: the room's calls we do not run yet. Not once we are leaving, nor when no call is
    // left: the node is no longer in the room then, and takes no new calls of it.
    if (!room.empty() && !hung_up && !links.empty() &&
        std::chrono::steady_clock::now() - discovered >= DISCOVER) {
      discovered = std::chrono::steady_clock::now();
      if (auto list = backend.call("GET", "/api/v1/calls"); list) {
        for (const auto& c : (*list)["calls"]) {
          if (c.value("room", std::string()) != room || !live(c) || known.count(c.value("id", std::string())))
            continue;
          add(c);
          settling = true;
        }
      }
    }
    if (links.empty()) break;
    std::this_thread::sleep_for(settling ? POLL_SETUP : POLL_RUNNING);
  }
  (*audio)->close();  // finalises the recording

  const bool ran = totals.connected > 0;
  const auto& s = totals.stats;
  if (ctx.json) {
    if (!room.empty())
      print_json_line({{"room", room}, {"calls_connected", totals.connected}, {"stats", stats_json(s)}});
  } else if (ran) {
    const std::string lasted =
        totals.first_connected_ms && totals.last_ended_ms > totals.first_connected_ms
            ? "lasted " + duration(totals.last_ended_ms - totals.first_connected_ms) + "; "
            : "";
    const std::string who = room.empty() ? "" : std::to_string(totals.connected) + " people heard; ";
    std::fprintf(stderr, "%s%s%s%llu audio packets received, %lld lost%s\n",
                 room.empty() ? "" : "left the group call: ", lasted.c_str(), who.c_str(),
                 static_cast<unsigned long long>(s.audio_packets_received),
                 static_cast<long long>(s.packets_lost),
                 args.record.empty() ? "" : (", recorded to " + args.record).c_str());
  }
  return ran ? 0 : 1;
}

}  // namespace kith::cli
