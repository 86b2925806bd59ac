#include "cli/call_endpoint.hpp"

#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/output.hpp"
#include "media/call.hpp"

namespace kith::cli {
namespace {

// Polling the node on loopback every 20 ms costs little and keeps call setup quick.
constexpr auto POLL = std::chrono::milliseconds(20);

// What the media thread reports, taken by the command's thread (which alone talks to the node).
struct Outbox {
  struct Item {
    std::string kind;  // "description" | "candidate" | "state"
    std::string type, text;
    unsigned mline = 0;
    media::State state = media::State::connecting;
  };
  std::mutex mutex;
  std::deque<Item> items;
  void push(Item item) {
    std::lock_guard lock(mutex);
    items.push_back(std::move(item));
  }
  std::deque<Item> take() {
    std::lock_guard lock(mutex);
    return std::exchange(items, {});
  }
};

// The node's ICE settings (GET /api/v1/calls/config) as media::Options takes them.
void apply_config(const nlohmann::json& config, media::Options& o) {
  for (const auto& server : config.value("ice_servers", nlohmann::json::array())) {
    const auto url = server.value("urls", std::string());
    if (url.rfind("stun:", 0) == 0) o.stun = url.substr(5);
    if (url.rfind("turn:", 0) == 0) {
      auto hostport =
          url.substr(5, url.find('?') == std::string::npos ? std::string::npos : url.find('?') - 5);
      o.turn = "turn://" + server.value("username", std::string()) + ":" +
               server.value("credential", std::string()) + "@" + hostport;
    }
  }
  o.relay_only = config.value("ice_transport_policy", std::string()) == "relay";
  for (const auto& n : config.value("ice_networks", nlohmann::json::array()))
    if (n.is_string()) o.ice_networks.push_back(n.get<std::string>());
}

std::string duration(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(ms / 60000),
                static_cast<long long>(ms / 1000 % 60));
  return buf;
}

void print_state(const Context& ctx, const nlohmann::json& call) {
  if (ctx.json) return print_json_line({{"call", call}});
  const auto name = safe(call["contact"].value("name", std::string()));
  const auto state = call.value("state", std::string());
  if (state == "calling")
    std::fprintf(stderr, "%s %s…\n", call.value("remote_ringing", false) ? "ringing" : "calling",
                 name.c_str());
  else if (state == "connecting")
    std::fprintf(stderr, "answered: connecting to %s…\n", name.c_str());
  else if (state == "active")
    std::fprintf(stderr, "connected with %s (Ctrl-C or `kith hangup %s` ends the call)\n", name.c_str(),
                 call.value("id", std::string()).c_str());
  else if (state == "ended")
    std::fprintf(stderr, "call ended: %s\n", safe(call.value("end_reason", std::string())).c_str());
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

}  // namespace

int run_call_endpoint(Context& ctx, Backend& backend, nlohmann::json call, const MediaArgs& args) {
  media::Options options;
  options.send_audio = args.send_audio;
  options.record = args.record;
  options.video = args.video || call.value("video", false);
  options.video_test_pattern = args.video_test;
  options.show_video = !args.video_test;
  if (auto config = backend.call("GET", "/api/v1/calls/config"); config)
    apply_config(*config, options);
  else
    return report(ctx, config.error());

  auto outbox = std::make_shared<Outbox>();
  media::Callbacks callbacks;
  callbacks.on_description = [outbox](std::string type, std::string sdp) {
    outbox->push({"description", std::move(type), std::move(sdp)});
  };
  callbacks.on_candidate = [outbox](unsigned mline, std::string line) {
    outbox->push({"candidate", "", std::move(line), mline});
  };
  callbacks.on_state = [outbox](media::State state, std::string detail) {
    outbox->push({"state", "", std::move(detail), 0, state});
  };
  auto media_call = media::Call::create(options, callbacks);
  if (!media_call) {
    auto id = call.value("id", std::string());
    nlohmann::json body{{"reason", media_call.error().message}};
    (void)backend.call("POST", "/api/v1/calls/" + id + "/failed",
                       &body);  // ends the call for the contact too
    return report(ctx, media_call.error());
  }
  std::unique_ptr<media::Call> media = std::move(*media_call);

  std::string id = call.value("id", std::string());
  bool outgoing = call.value("direction", std::string()) == "outgoing";
  bool was_active = false, hung_up = false;
  std::uint64_t seq = 0;
  std::string last_shown;
  nlohmann::json last = call;
  auto path = [&](const std::string& tail) { return "/api/v1/calls/" + id + tail; };
  auto fail_call = [&](const std::string& why) {
    nlohmann::json body{{"reason", why}};
    (void)backend.call("POST", path("/failed"), &body);  // the next poll sees the call ended
  };

  // The caller offers once the contact answered (an offer made while ringing and sent later is not
  // taken by Chromium's answer path here: ICE never connected in tests/ui). Its DTLS certificate is
  // made while ringing (media::Call::create starts it).
  bool answered = !outgoing;
  while (true) {
    if (interrupted() && !hung_up) {
      hung_up = true;
      if (auto r = backend.call("POST", path("/hangup")); !r)
        std::fprintf(stderr, "hanging up: %s\n", r.error().message.c_str());
    }
    // What the media side said since the last round (signals once the call is answered).
    for (auto& item : outbox->take()) {
      if (item.kind == "description") {
        nlohmann::json body{{"type", item.type}, {"sdp", item.text}};
        if (auto r = backend.call("POST", path("/signals"), &body); !r) fail_call(r.error().message);
      } else if (item.kind == "candidate") {
        nlohmann::json body{{"type", "candidate"}, {"candidate", item.text}, {"mline", item.mline}};
        (void)backend.call("POST", path("/signals"),
                           &body);  // a refused candidate (other network) is not fatal
      } else if (item.state == media::State::connected) {
        (void)backend.call("POST", path("/connected"));  // a call that ended meanwhile refuses: seen below
      } else if (item.state == media::State::failed) {
        fail_call(item.text);
      }
    }
    auto page = backend.call("GET", path("/signals?after=" + std::to_string(seq)));
    if (!page) {
      media->close();
      return report(ctx, page.error());
    }
    last = (*page)["call"];
    const auto state = last.value("state", std::string());
    const auto shown = state + (last.value("remote_ringing", false) ? "+ringing" : "");
    if (shown != last_shown) {
      print_state(ctx, last);
      last_shown = shown;
    }
    if (state == "active") was_active = true;
    if ((state == "connecting" || state == "active") && !answered) {
      answered = true;
      if (outgoing)
        if (auto r = media->create_offer(); !r) fail_call(r.error().message);
    }
    if (state == "ended") {
      // Glare: both called at once and this call gave way to the contact's, which the node answered.
      // Its peer connection already made an offer: a fresh one answers the other.
      if (auto next = last.value("replaced_by", std::string()); !next.empty() && !hung_up) {
        media->close();
        (void)outbox->take();  // the lost call's signals
        auto fresh = media::Call::create(options, callbacks);
        if (!fresh) {
          id = next;
          fail_call(fresh.error().message);
          return report(ctx, fresh.error());
        }
        media = std::move(*fresh);
        id = next;
        outgoing = false;
        answered = true;
        seq = 0;
        continue;
      }
      break;
    }
    for (const auto& s : (*page)["signals"]) {
      seq = std::max<std::uint64_t>(seq, s.value("seq", std::uint64_t{0}));
      const auto type = s.value("type", std::string());
      Status applied =
          type == "candidate"
              ? media->add_remote_candidate(s.value("mline", 0u), s.value("candidate", std::string()))
              : media->set_remote_description(type, s.value("sdp", std::string()));
      if (!applied) fail_call("the contact's " + type + " was refused: " + applied.error().message);
    }
    std::this_thread::sleep_for(POLL);
  }
  const auto stats = media->stats();
  media->close();  // finalises the recording
  const auto connected_ms = last.value("connected_ms", std::int64_t{0});
  const auto ended_ms = last.value("ended_ms", std::int64_t{0});
  if (ctx.json) {
    print_json_line({{"call", last}, {"stats", stats_json(stats)}});
  } else if (was_active || connected_ms) {
    std::fprintf(stderr, "%s; %llu audio packets received, %lld lost%s\n",
                 connected_ms ? ("lasted " + duration(ended_ms - connected_ms)).c_str() : "",
                 static_cast<unsigned long long>(stats.audio_packets_received),
                 static_cast<long long>(stats.packets_lost),
                 args.record.empty() ? "" : (", recorded to " + args.record).c_str());
  }
  return (was_active || connected_ms) ? 0 : 1;
}

}  // namespace kith::cli
