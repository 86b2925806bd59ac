// A room's one input and one output (room_audio.hpp). One GstPipeline holds both the input and, when
// there is no recording, the speaker: webrtcdsp compares what the microphone took with what the echo
// probe saw played by running time, so the two must share a pipeline's clock and base time.
#include "media/room_audio.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
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
std::atomic<int> g_rooms{0};  // unique element names (the echo probe is found by name, process-wide)
}  // namespace

struct RoomAudio::Impl {
  RoomAudioOptions opts;
  GstElement* pipeline = nullptr;
  GstElement* file_mixer = nullptr;  // file input: the file joins the live silence here
  GstElement* speaker = nullptr;     // the appsrc the mix is played from (no recording)
  Mixer mixer;
  WavWriter wav;

  std::mutex listeners_mu;  // held while listeners run, so that removing one waits for it
  std::map<int, Listener> listeners;
  int next_listener = 1;

  std::mutex mu;  // guards what follows
  bool file_started = false;
  bool closed = false;
  std::condition_variable stop_cv;
  std::thread mix_thread;

  ~Impl() {
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
  }

  void build();
  void start_file();
  void on_input(GstAppSink* sink);
  void mix_loop();
};

void RoomAudio::Impl::build() {
  pipeline = gst_pipeline_new(nullptr);
  const int n = g_rooms.fetch_add(1);
  const std::string probe_name = "kith_room_echo_probe_" + std::to_string(n);
  const bool mic = opts.send_audio.empty();
  const bool speaker_out = opts.record.empty();

  GstElement* input = make("appsink");
  g_object_set(input, "sync", FALSE, "async", FALSE, "max-buffers", 50u, "drop", TRUE, nullptr);
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = [](GstAppSink* sink, gpointer p) -> GstFlowReturn {
    static_cast<Impl*>(p)->on_input(sink);
    return GST_FLOW_OK;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(input), &callbacks, this, nullptr);
  if (!mic) {
    // A file is not live: a live silence drives a mixer that takes the file in at real-time pace once
    // the first call connects (start_file), and goes on after it ends.
    GstElement* silence = make("audiotestsrc");
    g_object_set(silence, "is-live", TRUE, "samplesperbuffer", static_cast<int>(BLOCK_SAMPLES), nullptr);
    gst_util_set_object_arg(G_OBJECT(silence), "wave", "silence");
    file_mixer = make("audiomixer");
    chain(pipeline, {silence, capsfilter(gst::PCM_CAPS), file_mixer, capsfilter(gst::PCM_CAPS), input});
  } else {
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

void RoomAudio::Impl::on_input(GstAppSink* sink) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample) return;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    const auto* samples = reinterpret_cast<const std::int16_t*>(map.data);
    const std::size_t n = map.size / 2;
    std::lock_guard lock(listeners_mu);
    for (auto& [id, listener] : listeners) listener(samples, n);
    gst_buffer_unmap(buffer, &map);
  }
  gst_sample_unref(sample);
}

void RoomAudio::Impl::start_file() {
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description(
      "filesrc name=file ! wavparse ! audioconvert ! audioresample ! "
      "capsfilter caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved",
      TRUE, &err);
  if (!bin) {
    if (err) g_error_free(err);
    return;  // create() checked the file is readable; a file that is not a WAV sends silence
  }
  GstElement* file = gst_bin_get_by_name(GST_BIN(bin), "file");
  g_object_set(file, "location", opts.send_audio.c_str(), nullptr);
  gst_object_unref(file);
  gst_bin_add(GST_BIN(pipeline), bin);
  GstPad* src = gst_element_get_static_pad(bin, "src");
  GstPad* sink = gst_element_request_pad_simple(file_mixer, "sink_%u");
  // The file's timestamps start at 0: shift them to now (plus a little for the mixer's latency), or
  // the mixer would drop everything up to the current running time as late.
  if (GstClock* clock = gst_pipeline_get_clock(GST_PIPELINE(pipeline))) {
    const GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(pipeline);
    gst_pad_set_offset(src, static_cast<gint64>(now + 50 * GST_MSECOND));
    gst_object_unref(clock);
  }
  gst_pad_link(src, sink);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_element_sync_state_with_parent(bin);
}

// Pulls the mix every 10 ms on an absolute schedule (so the recording is as long as the time that
// passed, however late a wake-up is), into the WAV file or the speaker.
void RoomAudio::Impl::mix_loop() {
  std::vector<std::int16_t> block(BLOCK_SAMPLES);
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(mu);
  while (!closed) {
    next += BLOCK;
    stop_cv.wait_until(lock, next, [this] { return closed; });
    if (closed) break;
    lock.unlock();
    // Behind by more than half a second (a suspended process): skip ahead rather than burst.
    if (std::chrono::steady_clock::now() - next > 500ms) next = std::chrono::steady_clock::now();
    if (mixer.pull(block.data(), block.size())) {
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
    if (impl->pipeline) gst_element_set_state(impl->pipeline, GST_STATE_NULL);
    return tl::unexpected(Error{base::make_error_code(base::errc::unavailable), e.what()});
  }
  impl->mix_thread = std::thread([p = impl.get()] { p->mix_loop(); });
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
  {
    std::lock_guard lock(m_impl->mu);
    if (!m_impl->file_mixer || m_impl->file_started || m_impl->closed) return;
    m_impl->file_started = true;
  }
  m_impl->start_file();
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
  gst_element_set_state(impl.pipeline, GST_STATE_NULL);
  std::lock_guard lock(impl.listeners_mu);
  impl.listeners.clear();
}

}  // namespace kith::media
