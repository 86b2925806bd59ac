#pragma once
// One call's media in the native endpoint: a media::Call driven through the node's API for one call
// id, as a web page's RTCPeerConnection is. Each step() posts what the media side said (our offer or
// answer, candidates, connected/failed), polls GET /api/v1/calls/ID/signals for the contact's
// signals and the call's state, and applies them. A 1:1 call is one link; a group call runs one link
// per live call of its room (call_endpoint.cpp), all sharing one media::RoomAudio.
//
// Who offers: the side whose call is outgoing (the caller, or the node that placed a room's `link`
// call), once the call is `connecting`; the other side answers the offer. An offer made while ringing
// and sent later is not taken by Chromium (media/README.md), hence "once connecting".
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "cli/backend.hpp"
#include "media/call.hpp"

namespace kith::cli {

class CallLink {
 public:
  // Starts the media for `call` (its JSON as the API gave it). On failure the call is ended for the
  // contact too (POST …/failed), so that their side does not wait for media that will not come.
  static Result<std::unique_ptr<CallLink>> create(Backend& backend, nlohmann::json call,
                                                  const media::Options& options);
  ~CallLink();
  CallLink(const CallLink&) = delete;
  CallLink& operator=(const CallLink&) = delete;

  // One round with the node; the call as it is now (also in last()). An error only when the node
  // could not be asked; a call that ended is a call in state "ended".
  Result<nlohmann::json> step(Backend& backend);
  // Ends the call at the node (Ctrl-C); the next step() sees it ended.
  Status hang_up(Backend& backend);

  const std::string& id() const { return m_id; }  // changes when a glare hands the call over
  const nlohmann::json& last() const { return m_last; }
  // The call ended, and no glare handed it over to another call id (which the next step() follows).
  bool ended() const {
    return m_last.value("state", std::string()) == "ended" && m_last.value("id", std::string()) == m_id;
  }
  bool was_active() const { return m_was_active || m_last.value("connected_ms", std::int64_t{0}) != 0; }

  // The media's statistics, then stops it (finalises what it wrote). Idempotent.
  media::Stats close();

  struct Outbox;

 private:
  CallLink(nlohmann::json call, media::Options options);
  Status start_media();
  void fail(Backend& backend, const std::string& why);
  std::string path(const std::string& tail) const { return "/api/v1/calls/" + m_id + tail; }

  media::Options m_options;
  std::shared_ptr<Outbox> m_outbox;
  std::unique_ptr<media::Call> m_media;
  std::string m_id;
  nlohmann::json m_last;
  bool m_outgoing = false;
  bool m_answered = false;  // the node says the call is answered: the offer was made if it is ours
  bool m_was_active = false;
  bool m_hung_up = false;
  std::uint64_t m_seq = 0;
  std::optional<media::Stats> m_final_stats;
};

// The node's ICE settings (GET /api/v1/calls/config) as media::Options takes them.
void apply_call_config(const nlohmann::json& config, media::Options& options);

}  // namespace kith::cli
