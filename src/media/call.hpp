#pragma once
// One side of a 1:1 audio (and optionally video) call: a WebRTC peer connection built on GStreamer's
// webrtcbin, with Opus audio (payload 111, 48 kHz, as browsers use) and VP8 video, ICE through the
// libnice agent inside webrtcbin, and DTLS-SRTP (mandatory). No GStreamer or GLib type appears here:
// they stay inside src/media.
//
// Use: create a Call with its Options and Callbacks. The caller side calls create_offer(); the offer
// comes back through on_description("offer", sdp) and is carried to the peer, whose
// set_remote_description("offer", sdp) produces on_description("answer", sdp) there; the caller then
// applies it with set_remote_description("answer", sdp). Both sides carry each on_candidate() to the
// other's add_remote_candidate() (trickle ICE). on_state() reports connecting, then connected (ICE
// connected, DTLS handshake done, and the peer's certificate matching the a=fingerprint of its
// description), failed or closed. close() ends the call (also done by the destructor).
//
// Outside input: descriptions and candidates from the peer are checked (check_sdp, check_candidate)
// before webrtcbin sees them, and refused with base::errc::bad_input.
//
// Threading: every callback is called on the module's one GLib main loop thread (one per process,
// shared by every Call), one at a time, never while the module holds a lock; do not block in them for
// long. Methods may be called from any thread, that one included (create_offer,
// set_remote_description, add_remote_candidate and stats wait for webrtcbin's own thread, which never
// waits for ours). After close() returns no callback is called any more.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace kith::media {

class RoomAudio;  // room_audio.hpp

struct Options {
  // Audio to send: a WAV file played once (in real time, from the moment the call connects), then
  // silence; empty: the default microphone (autoaudiosrc) with echo cancellation and noise suppression
  // (webrtcdsp, fed by a webrtcechoprobe in front of the speaker).
  std::string send_audio;
  // Where what is heard goes: a WAV file (48 kHz mono 16-bit, valid once close() returned; empty
  // when nothing was heard); empty: the default speaker (autoaudiosink).
  std::string record;
  bool video = false;               // send and receive VP8 video
  bool video_test_pattern = false;  //   from videotestsrc (tests, headless machines); else autovideosrc
  bool show_video = true;           //   received video in a window (autovideosink); else decoded only
  std::string stun;                 // "host:port" of a STUN server; empty: none
  std::string turn;                 // "turn://user:pass@host:port" (or turns://); empty: none
  bool relay_only = false;          // only relayed candidates (through `turn`): the peer never sees our IP
  // When not empty, ICE uses only these: IP prefixes ("127.0.0.0/8", "fd00::/8") or exact addresses
  // ("127.0.0.1"). Candidates are gathered only on local addresses inside them, other local candidates
  // are not reported, and remote candidates outside them are ignored. Tests use {"127.0.0.1"}.
  std::vector<std::string> ice_networks;
  // When set, the call sends the room's input and hands what it hears to the room's mix
  // (room_audio.hpp) instead of using send_audio, record, a microphone or a speaker of its own: what a
  // group call's calls share. The call keeps the room alive.
  std::shared_ptr<RoomAudio> room_audio;
};

enum class State { connecting, connected, failed, closed };
const char* to_string(State s);

// A snapshot from webrtcbin's statistics (get-stats) and the module's own counters.
struct Stats {
  bool connected = false;
  std::uint64_t audio_packets_received = 0;
  std::uint64_t audio_bytes_received = 0;
  std::int64_t packets_lost = 0;  // as the receiver reports it (RTCP); may be negative
  std::uint64_t video_frames_decoded = 0;
  std::optional<double> round_trip_time;  // seconds, from RTCP receiver reports, once there are some
  std::vector<std::string> codecs;        // e.g. "audio/OPUS", "video/VP8"
};

struct Callbacks {
  std::function<void(std::string type, std::string sdp)> on_description;     // "offer" or "answer"
  std::function<void(unsigned mline_index, std::string line)> on_candidate;  // "candidate:..."
  std::function<void(State state, std::string detail)> on_state;
};

// The checks on a peer's description (type "offer" or "answer"): at most MAX_SDP_SIZE bytes,
// printable text in "x=value" lines ending in CRLF or LF (no bare CR, no blank after "="), parses as
// SDP, 1 to MAX_MLINES m-lines, each audio or video over UDP/TLS/RTP/SAVP(F),
// each with ICE credentials and a DTLS fingerprint (sha-*, hex pairs), at session or media level.
inline constexpr std::size_t MAX_SDP_SIZE = 64 * 1024;
inline constexpr std::size_t MAX_MLINES = 4;
Status check_sdp(std::string_view type, std::string_view sdp);

// A peer's trickle candidate: at most MAX_CANDIDATE_SIZE bytes, printable, "candidate:...".
inline constexpr std::size_t MAX_CANDIDATE_SIZE = 256;
Status check_candidate(std::string_view line);

// Whether `ip` (an IPv4 or IPv6 literal) is inside one of `networks` (Options::ice_networks; an entry
// that does not parse matches nothing).
bool address_allowed(const std::vector<std::string>& networks, std::string_view ip);

// Starts GStreamer and the process's DTLS certificate (an RSA key, up to seconds of CPU) in the
// background, so that a Call made soon after sets up faster. Any thread; once is enough.
void prepare();

class Call {
 public:
  // Builds the pipeline and starts it (microphone, camera, files); errors: a file that cannot be read
  // or written, a missing GStreamer element, an ice_networks entry that matches no local address.
  static Result<std::unique_ptr<Call>> create(Options options, Callbacks callbacks);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Makes an offer; it comes back through on_description("offer", ...).
  Status create_offer();
  // The peer's description. An offer is answered through on_description("answer", ...).
  Status set_remote_description(std::string_view type, std::string_view sdp);
  // A peer's trickle candidate for m-line `mline_index` (ignored when outside Options::ice_networks).
  Status add_remote_candidate(unsigned mline_index, std::string_view line);

  State state() const;
  Stats stats();  // waits for webrtcbin's reply (milliseconds); after close(), only the frame count
  // Ends the call: stops sending, finalises the recording (waits at most about 2 s for it), reports
  // on_state(closed) unless the call had already failed, and stops every callback. Idempotent.
  void close();

  struct Impl;

 private:
  explicit Call(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> m_impl;
};

}  // namespace kith::media
