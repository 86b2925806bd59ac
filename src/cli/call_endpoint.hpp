#pragma once
// The native media endpoint (`kith call`, `kith answer`): runs the media of a 1:1 call, or of every
// call of a group call's room, until it ends — either side hangs up, everyone else left the room, or
// Ctrl-C here hangs up (leaves the room). Each call is a CallLink (call_link.hpp); this is the loop
// around them: it picks up the room's new calls, prints what happens, and ends with a summary.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/backend.hpp"
#include "cli/commands.hpp"

namespace kith::cli {

struct MediaArgs {
  bool video = false;
  bool video_test = false;  // a test pattern instead of the camera (and no window for what is received)
  std::string send_audio;   // a WAV to play instead of the microphone (once, to everyone in the call)
  std::string record;       // a WAV to write what is heard to (the mix of everyone), instead of the speaker
};

// Runs the endpoint for `calls` (their JSON as the API gave it) until they end. `room` empty: a call
// between two people (`calls` holds it). Otherwise a group call: `calls` are the room's calls known
// so far, and every further call of the room the node reports (GET /api/v1/calls) joins them: links
// the node placed, calls it answered at once. Returns the exit code: 0 when some call ran (connected
// at some point), 1 when none did (declined, busy, no answer, failed).
int run_call_endpoint(Context& ctx, Backend& backend, const std::string& room,
                      std::vector<nlohmann::json> calls, const MediaArgs& media);

}  // namespace kith::cli
