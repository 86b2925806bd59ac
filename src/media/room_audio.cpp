// A room's one input and one output (room_audio.hpp). One GstPipeline holds both the microphone and,
// when there is no recording, the speaker: webrtcdsp compares what the microphone took with what the
// echo probe saw played by running time, so the two must share a pipeline's clock and base time.
//
// A file input is paced by the room's own 10 ms thread (the one that pulls the mix), which takes each
// block from a non-live decoding pipeline (filesrc ! wavparse ! … ! appsink, a few blocks ahead) once
// the first call connected, and silence before and after. A first version mixed the file into a live
// silence with an audiomixer, as a Call alone does (call.cpp); in about one run in fifty on a loaded
// machine a room's input then stopped for good once the file was linked in (media_test's mesh: one
// room heard by nobody). The paced thread has no such dynamic linking.
#include "media/room_audio.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "media/call.hpp"
#include "media/gst_detail.hpp"
#include "media/mixer.hpp"

namespace kith::media {

using namespace std::chrono_literals;
using gst::capsfilter;
using gst::chain;
using gst::make;

namespace {
// The mix is pulled in 10 ms blocks: short enough to add little delay, long enough to cost little.
constexpr auto BLOCK = 10ms;
constexpr std::size_t BLOCK_SAMPLES = AUDIO_RATE / 100;

// GST_DEBUG=kithroom:6 prints when the file input starts and each block of the mix, on GStreamer's
// debug clock: how bench/calls.py times what is sent and heard (mouth-to-ear, first audio).
GST_DEBUG_CATEGORY_STATIC(room_debug);
std::atomic<int> g_rooms{0};  // unique element names (the echo probe is found by name, process-wide)
}  // namespace

struct RoomAudio::Impl {
  RoomAudioOptions opts;
  GstElement* pipeline = nullptr;       // the microphone and/or the speaker; none for file → file
  GstElement* file_pipeline = nullptr;  // file input: decodes the WAV into file_sink, non-live
  GstElement* file_sink = nullptr;      // ... an appsink pulled by the 10 ms thread
  GstElement* speaker = nullptr;        // the appsrc the mix is played from (no recording)
  Mixer mixer;
  WavWriter wav;

  std::mutex listeners_mu;  // held while listeners run, so that removing one waits for it
  std::map<int, Listener> listeners;
  int next_listener = 1;

  std::deque<std::int16_t> file_pcm;  // decoded, not sent yet (10 ms thread only)
  bool file_done = false;             // (10 ms thread only)

  std::mutex mu;  // guards what follows
  bool file_started = false;
  bool closed = false;
  std::condition_variable stop_cv;
  std::thread mix_thread;

  ~Impl() {
    for (GstElement* p : {pipeline, file_pipeline})
      if (p) {
        gst_element_set_state(p, GST_STATE_NULL);
        gst_object_unref(p);
      }
  }

  void build();
  void build_file();
  bool file_block(std::int16_t* out, std::size_t n);
  void on_input(GstAppSink* sink);
  void send_input(const std::int16_t* samples, std::size_t n);
  void tick_loop();
};

void RoomAudio::Impl::build() {
  const int n = g_rooms.fetch_add(1);
  const std::string probe_name = "kith_room_echo_probe_" + std::to_string(n);
  const bool mic = opts.send_audio.empty();
  const bool speaker_out = opts.record.empty();
  if (!mic) build_file();
  if (!mic && !speaker_out) return;  // file to file: the 10 ms thread does it all
  pipeline = gst_pipeline_new(nullptr);

  if (mic) {
    GstElement* input = make("appsink");
    g_object_set(input, "sync", FALSE, "async", FALSE, "max-buffers", 50u, "drop", TRUE, nullptr);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* sink, gpointer p) -> GstFlowReturn {
      static_cast<Impl*>(p)->on_input(sink);
      return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(input), &callbacks, this, nullptr);
    GstElement* dsp = make("webrtcdsp");
    if (speaker_out)
      g_object_set(dsp, "probe", probe_name.c_str(), nullptr);
    else  // nothing is played, so there is no echo; and webrtcdsp fails to start without its probe
      g_object_set(dsp, "echo-cancel", FALSE, nullptr);
    chain(pipeline, {make("autoaudiosrc"), make("audioconvert"), make("audioresample"),
                     capsfilter("audio/x-raw,format=S16LE,rate=48000,channels=1"), dsp, make("audioconvert"),
                     capsfilter(gst::PCM_CAPS), input});
  }

  if (speaker_out) {
    speaker = make("appsrc");
    GstCaps* caps = gst_caps_from_string(gst::PCM_CAPS);
    g_object_set(speaker, "caps", caps, "is-live", TRUE, "do-timestamp", TRUE, "format", GST_FORMAT_TIME,
                 "min-latency", static_cast<gint64>(2 * BLOCK / 1ms * GST_MSECOND), nullptr);
    gst_caps_unref(caps);
    GstElement* sink = make("autoaudiosink");
    g_object_set(sink, "async-handling", TRUE, nullptr);
    if (mic)
      chain(pipeline, {speaker, make("audioconvert"), make("audioresample"),
                       capsfilter("audio/x-raw,format=S16LE,rate=48000"),
                       make("webrtcechoprobe", probe_name.c_str()), make("audioconvert"), sink});
    else
      chain(pipeline, {speaker, make("audioconvert"), make("audioresample"), sink});
  }

  GstBus* bus = gst_element_get_bus(pipeline);
  // No watch reads this bus: without a handler its messages would pile up for the room's lifetime.
  // An error (a microphone unplugged) stops that element's stream; the calls go on.
  gst_bus_set_sync_handler(
      bus, [](GstBus*, GstMessage*, gpointer) -> GstBusSyncReply { return GST_BUS_DROP; }, nullptr, nullptr);
  gst_object_unref(bus);
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw std::runtime_error("the room's audio does not start (microphone or speaker missing?)");
}

// The file, decoded ahead into an appsink that holds a few blocks (then the decoder waits): prerolled
// here, so that a file that is not a WAV is an error of create() rather than silence.
void RoomAudio::Impl::build_file() {
  file_pipeline = gst_pipeline_new(nullptr);
  GstElement* src = make("filesrc");
  g_object_set(src, "location", opts.send_audio.c_str(), nullptr);
  file_sink = make("appsink");
  g_object_set(file_sink, "sync", FALSE, "max-buffers", 20u, "drop", FALSE, nullptr);
  chain(file_pipeline, {src, make("wavparse"), make("audioconvert"), make("audioresample"),
                        capsfilter(gst::PCM_CAPS), file_sink});
  if (gst_element_set_state(file_pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE ||
      gst_element_get_state(file_pipeline, nullptr, nullptr, 10 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS)
    throw std::runtime_error("cannot play " + opts.send_audio + " (a WAV file?)");
  gst_element_set_state(file_pipeline, GST_STATE_PLAYING);
}

// The file's next `n` samples once it plays (silence where it is behind or over), else silence.
// Answers whether the file plays.
bool RoomAudio::Impl::file_block(std::int16_t* out, std::size_t n) {
  std::fill(out, out + n, 0);
  {
    std::lock_guard lock(mu);
    if (!file_started) return false;
  }
  while (file_pcm.size() < n && !file_done) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(file_sink), 0);
    if (!sample) {
      file_done = gst_app_sink_is_eos(GST_APP_SINK(file_sink));
      break;  // the decoder is behind (it never is for long): this block ends early
    }
    GstMapInfo map;
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      const auto* samples = reinterpret_cast<const std::int16_t*>(map.data);
      file_pcm.insert(file_pcm.end(), samples, samples + map.size / 2);
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
  }
  const std::size_t take = std::min(n, file_pcm.size());
  std::copy(file_pcm.begin(), file_pcm.begin() + static_cast<std::ptrdiff_t>(take), out);
  file_pcm.erase(file_pcm.begin(), file_pcm.begin() + static_cast<std::ptrdiff_t>(take));
  return true;
}

void RoomAudio::Impl::send_input(const std::int16_t* samples, std::size_t n) {
  std::lock_guard lock(listeners_mu);
  for (auto& [id, listener] : listeners) listener(samples, n);
}

void RoomAudio::Impl::on_input(GstAppSink* sink) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    send_input(reinterpret_cast<const std::int16_t*>(map.data), map.size / 2);
    gst_buffer_unmap(buffer, &map);
  }
  gst_sample_unref(sample);
}

// Every 10 ms on an absolute schedule (so a recording is as long as the time that passed, and a file
// plays in real time, however late a wake-up is): a block of the file input to every call, and a
// block of the mix into the WAV file or the speaker.
void RoomAudio::Impl::tick_loop() {
  std::vector<std::int16_t> block(BLOCK_SAMPLES), input(BLOCK_SAMPLES);
  bool file_timed = false;  // the first block of the file was logged
  std::uint64_t mixed = 0;  // samples of the mix so far (= the recording's length)
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(mu);
  while (!closed) {
    next += BLOCK;
    stop_cv.wait_until(lock, next, [this] { return closed; });
    if (closed) break;
    lock.unlock();
    // Behind by more than half a second (a suspended process): skip ahead rather than burst.
    if (std::chrono::steady_clock::now() - next > 500ms) next = std::chrono::steady_clock::now();
    if (file_sink) {
      const bool playing = file_block(input.data(), input.size());
      if (playing && !file_timed) {
        file_timed = true;
        GST_CAT_INFO(room_debug, "file input: first block sent");
      }
      send_input(input.data(), input.size());
    }
    if (mixer.pull(block.data(), block.size())) {
      mixed += block.size();
      GST_CAT_LOG(room_debug, "mixed block: %" G_GUINT64_FORMAT " samples in all",
                  static_cast<guint64>(mixed));
      if (wav.is_open()) {
        wav.write(block.data(), block.size());
      } else if (speaker) {
        GstBuffer* buffer = gst_buffer_new_memdup(block.data(), block.size() * 2);
        gst_app_src_push_buffer(GST_APP_SRC(speaker), buffer);
      }
    }
    lock.lock();
  }
}

Result<std::shared_ptr<RoomAudio>> RoomAudio::create(RoomAudioOptions options) {
  prepare();  // gst_init
  static std::once_flag debug_category;
  std::call_once(debug_category,
                 [] { GST_DEBUG_CATEGORY_INIT(room_debug, "kithroom", 0, "kith: a group call's audio"); });
  if (!options.send_audio.empty() && !gst::readable(options.send_audio))
    return tl::unexpected(
        Error{base::make_error_code(base::errc::unavailable), "cannot read " + options.send_audio});
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(options);
  if (!impl->opts.record.empty())
    if (auto ok = impl->wav.open(impl->opts.record); !ok) return tl::unexpected(ok.error());
  try {
    impl->build();
  } catch (const std::exception& e) {
    return tl::unexpected(Error{base::make_error_code(base::errc::unavailable), e.what()});
  }
  impl->mix_thread = std::thread([p = impl.get()] { p->tick_loop(); });
  return std::shared_ptr<RoomAudio>(new RoomAudio(std::move(impl)));
}

RoomAudio::RoomAudio(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

RoomAudio::~RoomAudio() { close(); }

int RoomAudio::add_listener(Listener listener) {
  std::lock_guard lock(m_impl->listeners_mu);
  const int id = m_impl->next_listener++;
  m_impl->listeners.emplace(id, std::move(listener));
  return id;
}

void RoomAudio::remove_listener(int id) {
  std::lock_guard lock(m_impl->listeners_mu);
  m_impl->listeners.erase(id);
}

int RoomAudio::add_source() { return m_impl->mixer.add_source(); }
void RoomAudio::heard(int source, const std::int16_t* samples, std::size_t n) {
  m_impl->mixer.push(source, samples, n);
}
void RoomAudio::remove_source(int source) { m_impl->mixer.remove_source(source); }

void RoomAudio::call_connected() {
  std::lock_guard lock(m_impl->mu);
  m_impl->file_started = true;  // the 10 ms thread plays it from its next block
}

void RoomAudio::close() {
  auto& impl = *m_impl;
  {
    std::lock_guard lock(impl.mu);
    if (impl.closed) return;
    impl.closed = true;
  }
  impl.stop_cv.notify_all();
  if (impl.mix_thread.joinable()) impl.mix_thread.join();
  impl.wav.close();
  for (GstElement* p : {impl.pipeline, impl.file_pipeline})
    if (p) gst_element_set_state(p, GST_STATE_NULL);
  std::lock_guard lock(impl.listeners_mu);
  impl.listeners.clear();
}

}  // namespace kith::media
