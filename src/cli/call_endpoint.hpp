#pragma once
// The native media endpoint of a call (`kith call`, `kith answer`): a media::Call (GStreamer
// webrtcbin) driven through the node's call API, as a web page's RTCPeerConnection is. It polls
// GET /api/v1/calls/ID/signals for the contact's offer/answer/candidates and the call's state, posts
// its own signals, and reports connected or failed. It runs until the call ends (either side hangs
// up, or Ctrl-C here hangs up).
#include <nlohmann/json.hpp>
#include <string>

#include "cli/backend.hpp"
#include "cli/commands.hpp"

namespace kith::cli {

struct MediaArgs {
  bool video = false;
  bool video_test = false;  // a test pattern instead of the camera (and no window for what is received)
  std::string send_audio;   // a WAV to play instead of the microphone
  std::string record;       // a WAV to write what is heard to, instead of the speaker
};

// Runs the endpoint for call `call` (its JSON as the API gave it) until it ends. The caller side
// (outgoing) makes the offer once the contact answered. Returns the exit code: 0 when the call ran
// (connected at some point), 1 when it never did (declined, busy, no answer, failed).
int run_call_endpoint(Context& ctx, Backend& backend, nlohmann::json call, const MediaArgs& media);

}  // namespace kith::cli
