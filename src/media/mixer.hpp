#pragma once
// What a group call's participant hears: the audio of every call of the room, summed into one stream
// (Mixer), and a WAV file to write it to (WavWriter). Plain C++ (no GStreamer): RoomAudio
// (room_audio.hpp) feeds the mixer from each call's decoder and pulls the mix on a clock of its own.
//
// Samples are 48 kHz mono signed 16-bit, as every call decodes them (Opus at 48 kHz).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "base/error.hpp"

namespace kith::media {

inline constexpr int AUDIO_RATE = 48000;

// Sums sources that each deliver audio at their own pace (a call's jitter buffer hands over decoded
// frames in bursts) into one stream pulled at a steady pace. Each source has a FIFO: it joins the mix
// once `prime` samples are buffered (so one late frame does not cut it into silence at once), drops
// back out when its FIFO runs dry (and primes again), and never holds more than `max_buffered`
// samples (the oldest are dropped: the delay stays bounded when a sender's clock runs faster than
// ours). The sum is clipped to 16 bits. Thread-safe: any thread may push while another pulls.
class Mixer {
 public:
  explicit Mixer(std::size_t prime = AUDIO_RATE / 25, std::size_t max_buffered = AUDIO_RATE / 12);

  int add_source();
  void remove_source(int id);  // its buffered audio is dropped
  void push(int id, const std::int16_t* samples, std::size_t n);
  // The next `n` samples of the mix. False (and `out` untouched) until some source was first primed:
  // a recording starts at the first thing heard, not at silence before anyone answered.
  bool pull(std::int16_t* out, std::size_t n);
  bool started() const;

 private:
  struct Source {
    std::deque<std::int16_t> fifo;
    bool primed = false;
  };
  const std::size_t m_prime, m_max;
  mutable std::mutex m_mu;
  std::map<int, Source> m_sources;
  int m_next = 1;
  bool m_started = false;
};

// A mono 16-bit PCM WAV file being written. The RIFF sizes are rewritten every second of audio and on
// close(), so a process killed mid-call still leaves a file that plays up to about its last second.
class WavWriter {
 public:
  WavWriter() = default;
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  Status open(const std::string& path, int rate = AUDIO_RATE);
  bool is_open() const { return m_file != nullptr; }
  void write(const std::int16_t* samples, std::size_t n);
  void close();  // final sizes; idempotent
  std::uint64_t samples() const { return m_samples; }

 private:
  void write_sizes();
  std::FILE* m_file = nullptr;
  int m_rate = AUDIO_RATE;
  std::uint64_t m_samples = 0, m_sized = 0;
};

}  // namespace kith::media
