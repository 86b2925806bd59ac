#pragma once
// The audio of a group call (a room: one Call per other participant, docs/protocol/calls.md § Group
// calls), shared by its calls: one input that every call sends, and one output that plays or records
// the mix of what every call hears. A 1:1 call can use it too (a room of one call).
//
// Why one input and one output rather than a microphone and a speaker per call: with a microphone per
// call, each call's echo canceller would know only its own call's far end, so what B says, played by
// our speaker, would go back out to C; and a file would start anew on each call as it connects. Here
// the microphone goes through one webrtcdsp whose echo probe sits in front of the one speaker that
// plays the mix of everyone, and a file plays once for everybody.
//
// Use: create a RoomAudio, put it in each call's Options::room_audio, close() it after the last call
// (it finalises the recording). No GStreamer or GLib type appears here.
//
//   input:  autoaudiosrc ! webrtcdsp (echo probe: the speaker's) ! appsink ─┐
//           or a WAV file, decoded ahead, taken in 10 ms blocks from the    ─┴→ every call's appsrc
//              first call's connect (silence before and after)
//   output: every call's decoder → appsink → Mixer, pulled every 10 ms → a WAV file (WavWriter)
//                                          or appsrc ! webrtcechoprobe ! autoaudiosink
//
// Threading: methods may be called from any thread. heard() runs on the calls' streaming threads,
// listeners on the microphone's streaming thread or the RoomAudio's own 10 ms thread (which also
// pulls the mix).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"

namespace kith::media {

struct RoomAudioOptions {
  // A WAV file to send instead of the microphone: played once, in real time, from the moment the
  // first call connects (then silence). Empty: the default microphone with echo cancellation and
  // noise suppression.
  std::string send_audio;
  // A WAV file (48 kHz mono 16-bit) for the mix of everything heard, from the first sound heard; valid
  // once close() returned (and, within about a second, while it is written). Empty: the speaker.
  std::string record;
};

class RoomAudio {
 public:
  // Starts the input and the output (microphone, speaker, files). Errors: a file that cannot be read
  // or written, a missing GStreamer element, a pipeline that does not start.
  static Result<std::shared_ptr<RoomAudio>> create(RoomAudioOptions options);
  ~RoomAudio();
  RoomAudio(const RoomAudio&) = delete;
  RoomAudio& operator=(const RoomAudio&) = delete;

  // For Call (and tests). `listener` gets every block of input (48 kHz mono S16) until it is removed;
  // remove_listener() returns once no call of it runs any more.
  using Listener = std::function<void(const std::int16_t* samples, std::size_t n)>;
  int add_listener(Listener listener);
  void remove_listener(int id);
  // A stream of what one call hears: its blocks go into the mix.
  int add_source();
  void heard(int source, const std::int16_t* samples, std::size_t n);
  void remove_source(int source);
  // A call connected (its peer verified): the file input starts with the first one.
  void call_connected();

  // Stops the input and the output and finalises the recording. Idempotent; the destructor does it.
  void close();

  struct Impl;

 private:
  explicit RoomAudio(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace kith::media
