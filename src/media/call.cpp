// A call over webrtcbin (call.hpp). Everything GStreamer and GLib stays in this file and sdp_check.cpp.
//
// The pipeline, per call (one GstPipeline each):
//   send audio, file:  audiotestsrc is-live wave=silence ! audiomixer ! opusenc ! rtpopuspay ! webrtcbin
//                      filesrc ! wavparse ! audioconvert ! audioresample ─┘  (added once connected)
//   send audio, mic:   autoaudiosrc ! webrtcdsp ! opusenc ! rtpopuspay ! webrtcbin
//   send video:        videotestsrc is-live | autovideosrc ! vp8enc deadline=1 ! rtpvp8pay ! webrtcbin
//   receive (pad-added on webrtcbin): rtpopusdepay ! opusdec ! wavenc ! filesink
//                                               or ! [webrtcechoprobe] ! autoaudiosink
//                                     rtpvp8depay ! vp8dec ! (frame counter) ! fakesink | autovideosink
//   with a RoomAudio (a group call's shared audio, room_audio.hpp), instead of the file, microphone,
//   recording and speaker above:
//     send audio:  appsrc (the room's input, pushed by its listener) ! audioconvert ! opusenc ! ...
//     receive:     rtpopusdepay ! opusdec ! audioresample ! appsink → the room's mix
//
// Facts this design answers:
//  - A file source is not live: on its own it would be encoded and sent as fast as it can be read. A
//    live silent audiotestsrc drives an audiomixer, which then mixes the file in at real-time pace; the
//    file's pad gets an offset of the running time at which it is added, so it plays from its start.
//  - webrtcbin checks that a description has a=fingerprint lines but, in 1.22, never compares the
//    peer's DTLS certificate with them: a call with a tampered fingerprint connects. We compare the
//    certificate the DTLS transport reports (remote-certificate, PEM) with the description's
//    fingerprint before reporting "connected", and end the call when they differ; until then nothing
//    received is played or recorded.
//  - wavenc writes the RIFF sizes only on EOS (it seeks back to the header), and filesink closes the
//    file only on the way to NULL; close() therefore sends EOS into the recorder, waits for it at the
//    filesink, then stops the pipeline.
//  - libnice's agent inside webrtcbin (ice-agent → agent) gathers on every interface unless told
//    local addresses with nice_agent_add_local_address; that is how ice_networks keeps ICE on them.
#include "media/call.hpp"

#define GST_USE_UNSTABLE_API  // gst/webrtc (1.22 still calls its API unstable)
#include <arpa/inet.h>
#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include "media/detail.hpp"
#include "media/gst_detail.hpp"
#include "media/mixer.hpp"
#include "media/room_audio.hpp"

namespace kith::media {
namespace {

using namespace std::chrono_literals;
using gst::capsfilter;
using gst::chain;
using gst::make;
using gst::readable;

// What a call may queue of the room's input before its encoder: 200 ms of 48 kHz mono S16.
constexpr std::size_t AUDIO_BYTES_QUEUED = AUDIO_RATE / 5 * 2;

// The process's one GLib main loop thread for callbacks (and gst_init, once). It lives as long as the
// process: a call may be destroyed from any thread at any time, including static destruction.
struct Loop {
  GMainContext* ctx = nullptr;
  std::thread::id id;

  static Loop& get() {
    static Loop* loop = [] {
      gst_init(nullptr, nullptr);
      // GStreamer's DTLS elements share one generated certificate per process (an RSA 2048 key: up to
      // seconds of CPU), made when the first one is created — by default at the first offer or answer,
      // in the middle of call setup. Making it now, beside the caller's ringing, takes that off the
      // setup time.
      // OpenSSL (which GStreamer's DTLS elements use) cleans up in an atexit handler it registers when
      // it is first initialised: if that happened inside the thread below, after our handler that waits
      // for the thread, its cleanup would run first (handlers run in reverse) and the thread would crash
      // in it (seen: a process that exits within ~100 ms of prepare()). Initialised here, before. (With
      // no option bit OPENSSL_init_crypto returns at once: these two are what the DTLS elements load.)
      OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, nullptr);
      std::promise<void> made;
      auto* l = new Loop;
      static std::shared_future<void> certificate_made = made.get_future().share();
      std::thread([made = std::move(made)]() mutable {
        if (GstElement* dtls = gst_element_factory_make("dtlsdec", nullptr)) gst_object_unref(dtls);
        made.set_value();
      }).detach();
      // However the process ends (an error before any call was made, too), not while that thread runs.
      std::atexit([] { certificate_made.wait(); });
      l->ctx = g_main_context_new();
      std::promise<std::thread::id> started;
      auto id = started.get_future();
      std::thread([l, started = std::move(started)]() mutable {
        g_main_context_push_thread_default(l->ctx);
        GMainLoop* ml = g_main_loop_new(l->ctx, FALSE);
        started.set_value(std::this_thread::get_id());
        g_main_loop_run(ml);
      }).detach();
      l->id = id.get();
      return l;
    }();
    return *loop;
  }
  bool here() const { return std::this_thread::get_id() == id; }

  // Runs `f` on the loop thread, after what was posted before. The release/acquire pair tells
  // ThreadSanitizer about the hand-over GLib does with its own locks (as in ice_link.cpp).
  void post(std::function<void()> f) {
    struct Job {
      std::function<void()> f;
      std::atomic<bool> sent{false};
    };
    auto* job = new Job{std::move(f)};
    job->sent.store(true, std::memory_order_release);
    GSource* s = g_idle_source_new();
    g_source_set_priority(s, G_PRIORITY_DEFAULT);
    g_source_set_callback(
        s,
        [](gpointer p) -> gboolean {
          auto* j = static_cast<Job*>(p);
          if (j->sent.load(std::memory_order_acquire)) j->f();
          return G_SOURCE_REMOVE;
        },
        job, [](gpointer p) { delete static_cast<Job*>(p); });
    g_source_attach(s, ctx);
    g_source_unref(s);
  }
};

std::string hex_digest(GChecksumType type, const guint8* data, gsize size) {
  gchar* s = g_compute_checksum_for_data(type, data, size);
  std::string out(s ? s : "");
  g_free(s);
  return out;
}

// The digest of a PEM certificate's DER bytes with the fingerprint's hash; empty on failure.
std::vector<std::uint8_t> certificate_digest(const std::string& pem, const std::string& hash) {
  GChecksumType type;
  if (hash == "sha-1")
    type = G_CHECKSUM_SHA1;
  else if (hash == "sha-256")
    type = G_CHECKSUM_SHA256;
  else if (hash == "sha-384")
    type = G_CHECKSUM_SHA384;
  else if (hash == "sha-512")
    type = G_CHECKSUM_SHA512;
  else
    return {};
  GError* err = nullptr;
  GTlsCertificate* cert = g_tls_certificate_new_from_pem(pem.c_str(), -1, &err);
  if (!cert) {
    if (err) g_error_free(err);
    return {};
  }
  GByteArray* der = nullptr;
  g_object_get(cert, "certificate", &der, nullptr);
  std::vector<std::uint8_t> out;
  if (der) {
    const std::string hex = hex_digest(type, der->data, der->len);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    g_byte_array_unref(der);
  }
  g_object_unref(cert);
  return out;
}

// Local interface addresses inside `networks`.
std::vector<std::string> local_addresses(const std::vector<std::string>& networks) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    else if (i->ifa_addr->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text, sizeof text);
    else
      continue;
    if (address_allowed(networks, text) && std::find(out.begin(), out.end(), text) == out.end())
      out.emplace_back(text);
  }
  freeifaddrs(list);
  return out;
}

bool writable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

}  // namespace

const char* to_string(State s) {
  switch (s) {
    case State::connecting:
      return "connecting";
    case State::connected:
      return "connected";
    case State::failed:
      return "failed";
    case State::closed:
      return "closed";
  }
  return "unknown";
}

struct Call::Impl : std::enable_shared_from_this<Impl> {
  Options opts;
  Callbacks cbs;
  Loop& loop = Loop::get();

  GstElement* pipeline = nullptr;
  GstElement* webrtc = nullptr;
  GstElement* mixer = nullptr;      // file sending: the file joins the silence here
  GstElement* audio_out = nullptr;  // the first element what is heard goes to (wavenc or the speaker's)
  GstElement* video_counter = nullptr;
  std::string echo_probe_name;
  GstElement* room_input = nullptr;  // room audio: the appsrc the room's input is pushed into
  int room_listener = 0;             // ... by this listener of the room
  int room_source = 0;               // room audio: what we hear goes into the room's mix as this source

  mutable std::mutex mu;  // guards what follows
  State state = State::connecting;
  bool closing = false;
  bool file_started = false;
  bool audio_linked = false;          // the first received audio stream is linked to audio_out
  GstElement* audio_depay = nullptr;  // ... through this element (ours, referenced)
  std::optional<Fingerprint> remote_fingerprint;
  std::condition_variable recorded_cv;
  bool eos_sent = false;  // into the recorder
  bool recorded = false;  // EOS reached the filesink

  std::atomic<bool> verified{false};  // the peer's certificate matched: received media may play
  std::atomic<std::uint64_t> video_frames{0};
  bool callbacks_off = false;  // on the loop thread only

  ~Impl() {
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
    if (audio_depay) gst_object_unref(audio_depay);
  }

  // Runs a user callback on the loop thread unless the call was closed by then.
  void deliver(std::function<void(Impl&)> f) {
    loop.post([self = shared_from_this(), f = std::move(f)] {
      if (!self->callbacks_off) f(*self);
    });
  }

  void set_state(State s, const std::string& detail) {
    {
      std::lock_guard lock(mu);
      if (closing || state == State::failed || state == State::closed) return;
      if (state == s && s != State::connecting) return;
      state = s;
    }
    deliver([s, detail](Impl& self) {
      if (self.cbs.on_state) self.cbs.on_state(s, detail);
    });
    if (s == State::failed) {
      // Stop sending and receiving; not from a streaming thread, which stopping would wait for.
      // The recording is finalised first, so that what was heard stays a valid file.
      loop.post([self = shared_from_this()] {
        self->finish_recording();
        gst_element_set_state(self->pipeline, GST_STATE_NULL);
      });
    }
  }

  void build();
  void build_audio_send();
  void build_audio_receive_sink();
  void build_video_send();
  void configure_ice();
  void start_file();
  void on_pad_added(GstPad* pad);
  void on_connection_state();
  void verify_and_connect();
  Stats collect_stats();
  void finish_recording();
  void attach_room();
  void detach_room();
};

// The room's input starts flowing into this call's appsrc (the pipeline is built and playing).
void Call::Impl::attach_room() {
  GstElement* src = room_input;
  room_listener = opts.room_audio->add_listener([src](const std::int16_t* samples, std::size_t n) {
    gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_new_memdup(samples, n * 2));
  });
}

// Before the pipeline stops: no more input pushed; after: what we heard leaves the mix.
void Call::Impl::detach_room() {
  if (!opts.room_audio) return;
  if (room_listener) opts.room_audio->remove_listener(std::exchange(room_listener, 0));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  if (room_source) opts.room_audio->remove_source(std::exchange(room_source, 0));
}

void Call::Impl::build() {
  pipeline = gst_pipeline_new(nullptr);
  webrtc = make("webrtcbin");
  gst_util_set_object_arg(G_OBJECT(webrtc), "bundle-policy", "max-bundle");
  // The jitter buffer's target delay (rtpbin's, 200 ms by default): what arrives is played this much
  // later. 60 ms rides out loopback and LAN jitter and a few lost packets' retransmission, as browsers'
  // adaptive buffers do in practice (bench/calls.py measured the 200 ms default).
  g_object_set(webrtc, "latency", 60u, nullptr);
  if (!opts.stun.empty()) g_object_set(webrtc, "stun-server", ("stun://" + opts.stun).c_str(), nullptr);
  if (!opts.turn.empty()) g_object_set(webrtc, "turn-server", opts.turn.c_str(), nullptr);
  if (opts.relay_only) gst_util_set_object_arg(G_OBJECT(webrtc), "ice-transport-policy", "relay");
  gst_bin_add(GST_BIN(pipeline), webrtc);
  configure_ice();
  build_audio_send();
  if (opts.video) build_video_send();
  build_audio_receive_sink();

  g_signal_connect(webrtc, "on-ice-candidate",
                   G_CALLBACK(+[](GstElement*, guint mline, gchar* candidate, gpointer p) {
                     auto* self = static_cast<Impl*>(p);
                     std::string line(candidate ? candidate : "");
                     if (line.rfind("a=", 0) == 0) line.erase(0, 2);
                     if (!self->opts.ice_networks.empty() &&
                         !address_allowed(self->opts.ice_networks, candidate_address(line)))
                       return;
                     self->deliver([mline, line](Impl& s) {
                       if (s.cbs.on_candidate) s.cbs.on_candidate(mline, line);
                     });
                   }),
                   this);
  g_signal_connect(webrtc, "notify::connection-state", G_CALLBACK(+[](GstElement*, GParamSpec*, gpointer p) {
                     static_cast<Impl*>(p)->on_connection_state();
                   }),
                   this);
  g_signal_connect(webrtc, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer p) {
                     static_cast<Impl*>(p)->on_pad_added(pad);
                   }),
                   this);

  // Errors from any element end the call; the handler runs on the posting thread, so hand over.
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(
      bus,
      [](GstBus*, GstMessage* msg, gpointer p) -> GstBusSyncReply {
        if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
          GError* err = nullptr;
          gchar* dbg = nullptr;
          gst_message_parse_error(msg, &err, &dbg);
          std::string detail =
              std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + (err ? err->message : "error");
          if (err) g_error_free(err);
          g_free(dbg);
          static_cast<Impl*>(p)->set_state(State::failed, detail);
        }
        return GST_BUS_DROP;
      },
      this, nullptr);
  gst_object_unref(bus);

  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw std::runtime_error("the call's pipeline does not start (microphone, camera or speaker missing?)");
}

void Call::Impl::configure_ice() {
  GObject* ice = nullptr;
  g_object_get(webrtc, "ice-agent", &ice, nullptr);
  if (!ice) throw std::runtime_error("webrtcbin has no ICE agent");
  NiceAgent* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
    g_object_get(ice, "agent", &agent, nullptr);
  g_object_unref(ice);
  if (!agent) {
    if (!opts.ice_networks.empty()) throw std::runtime_error("cannot restrict webrtcbin's ICE agent");
    return;
  }
  // No UPnP discovery (SSDP multicast on the LAN, port mappings on the router): the node's settings
  // decide which servers a call contacts (STUN, TURN), and nothing else is asked.
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "upnp"))
    g_object_set(agent, "upnp", FALSE, nullptr);
  // UDP only, as browsers pair in practice: ICE-TCP candidates (RFC 6544) triple the check list, and
  // behind symmetric NATs they delay the relayed pairs until libnice gives up (seen in netlab).
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "ice-tcp"))
    g_object_set(agent, "ice-tcp", FALSE, nullptr);
  if (!opts.ice_networks.empty()) {
    const auto addresses = local_addresses(opts.ice_networks);
    if (addresses.empty()) {
      g_object_unref(agent);
      throw std::runtime_error("no local address is inside ice_networks");
    }
    for (const auto& a : addresses) {
      NiceAddress addr;
      nice_address_init(&addr);
      if (nice_address_set_from_string(&addr, a.c_str())) nice_agent_add_local_address(agent, &addr);
    }
  }
  g_object_unref(agent);
}

void Call::Impl::build_audio_send() {
  GstElement* enc = make("opusenc");
  GstElement* pay = make("rtpopuspay");
  g_object_set(pay, "pt", 111, nullptr);
  GstElement* rtpcaps =
      capsfilter("application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000");
  if (opts.room_audio) {
    // The room's one input, pushed in by its listener (attach_room); live, timestamped on arrival.
    room_input = make("appsrc");
    GstCaps* caps = gst_caps_from_string(gst::PCM_CAPS);
    g_object_set(room_input, "caps", caps, "is-live", TRUE, "do-timestamp", TRUE, "format", GST_FORMAT_TIME,
                 "max-bytes", static_cast<guint64>(AUDIO_BYTES_QUEUED), "block", FALSE, nullptr);
    gst_caps_unref(caps);
    // When the encoder falls behind, drop the oldest audio, not the newest.
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(room_input), "leaky-type"))
      gst_util_set_object_arg(G_OBJECT(room_input), "leaky-type", "downstream");
    chain(pipeline, {room_input, make("audioconvert"), make("queue"), enc, pay, rtpcaps});
  } else if (!opts.send_audio.empty()) {
    GstElement* silence = make("audiotestsrc");
    g_object_set(silence, "is-live", TRUE, "samplesperbuffer", 480, nullptr);
    gst_util_set_object_arg(G_OBJECT(silence), "wave", "silence");
    mixer = make("audiomixer");
    chain(pipeline, {silence, capsfilter("audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved"),
                     mixer, capsfilter("audio/x-raw,format=S16LE,rate=48000,channels=1"),
                     make("audioconvert"), make("queue"), enc, pay, rtpcaps});
  } else {
    GstElement* dsp = make("webrtcdsp");
    echo_probe_name = std::string("kith_echo_probe_") + GST_ELEMENT_NAME(webrtc);
    g_object_set(dsp, "probe", echo_probe_name.c_str(), nullptr);
    chain(pipeline, {make("autoaudiosrc"), make("audioconvert"), make("audioresample"),
                     capsfilter("audio/x-raw,format=S16LE,rate=48000,channels=1"), dsp, make("audioconvert"),
                     make("queue"), enc, pay, rtpcaps});
  }
  GstPad* sink = gst_element_request_pad_simple(webrtc, "sink_%u");
  GstPad* src = gst_element_get_static_pad(rtpcaps, "src");
  const bool ok = gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  gst_object_unref(src);
  gst_object_unref(sink);
  if (!ok) throw std::runtime_error("cannot link the audio sender to webrtcbin");
}

void Call::Impl::build_video_send() {
  GstElement* source;
  GstElement* raw;
  if (opts.video_test_pattern) {
    source = make("videotestsrc");
    g_object_set(source, "is-live", TRUE, nullptr);
    gst_util_set_object_arg(G_OBJECT(source), "pattern", "ball");
    raw = capsfilter("video/x-raw,width=320,height=240,framerate=15/1");
  } else {
    source = make("autovideosrc");
    raw = capsfilter("video/x-raw,width=640,height=480");
  }
  GstElement* enc = make("vp8enc");
  g_object_set(enc, "deadline", static_cast<gint64>(1), "cpu-used", 8, "keyframe-max-dist", 60, nullptr);
  GstElement* pay = make("rtpvp8pay");
  g_object_set(pay, "pt", 96, nullptr);
  GstElement* rtpcaps =
      capsfilter("application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000");
  if (opts.video_test_pattern)
    chain(pipeline, {source, raw, make("videoconvert"), make("queue"), enc, pay, rtpcaps});
  else
    chain(pipeline, {source, make("videoconvert"), make("videoscale"), raw, make("videoconvert"),
                     make("queue"), enc, pay, rtpcaps});
  GstPad* sink = gst_element_request_pad_simple(webrtc, "sink_%u");
  GstPad* src = gst_element_get_static_pad(rtpcaps, "src");
  const bool ok = gst_pad_link(src, sink) == GST_PAD_LINK_OK;
  gst_object_unref(src);
  gst_object_unref(sink);
  if (!ok) throw std::runtime_error("cannot link the video sender to webrtcbin");
}

// What is heard goes to a WAV file or the speaker; built up front (the echo probe must exist before
// webrtcdsp starts), joined to the decoder when the peer's audio arrives.
void Call::Impl::build_audio_receive_sink() {
  GstElement* convert = make("audioconvert");
  if (opts.room_audio) {
    GstElement* sink = make("appsink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = [](GstAppSink* appsink, gpointer p) -> GstFlowReturn {
      auto* self = static_cast<Impl*>(p);
      GstSample* sample = gst_app_sink_pull_sample(appsink);
      if (!sample) return GST_FLOW_OK;
      GstBuffer* buffer = gst_sample_get_buffer(sample);
      GstMapInfo map;
      if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        self->opts.room_audio->heard(self->room_source, reinterpret_cast<const std::int16_t*>(map.data),
                                     map.size / 2);
        gst_buffer_unmap(buffer, &map);
      }
      gst_sample_unref(sample);
      return GST_FLOW_OK;
    };
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
    chain(pipeline, {convert, make("audioresample"), capsfilter(gst::PCM_CAPS), sink});
  } else if (!opts.record.empty()) {
    GstElement* sink = make("filesink");
    g_object_set(sink, "location", opts.record.c_str(), "sync", FALSE, "async", FALSE, nullptr);
    chain(pipeline, {convert, make("audioresample"),
                     capsfilter("audio/x-raw,format=S16LE,rate=48000,channels=1"), make("wavenc"), sink});
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [](GstPad*, GstPadProbeInfo* info, gpointer p) -> GstPadProbeReturn {
          if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
            auto* self = static_cast<Impl*>(p);
            std::lock_guard lock(self->mu);
            self->recorded = true;
            self->recorded_cv.notify_all();
          }
          return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_object_unref(pad);
  } else {
    GstElement* sink = make("autoaudiosink");
    g_object_set(sink, "async-handling", TRUE, nullptr);
    if (!echo_probe_name.empty()) {
      GstElement* probe = gst_element_factory_make("webrtcechoprobe", echo_probe_name.c_str());
      if (!probe) throw std::runtime_error("the GStreamer element webrtcechoprobe is not installed");
      chain(pipeline, {convert, make("audioresample"), capsfilter("audio/x-raw,format=S16LE,rate=48000"),
                       probe, make("audioconvert"), sink});
    } else {
      chain(pipeline, {convert, make("audioresample"), sink});
    }
  }
  audio_out = convert;
}

void Call::Impl::start_file() {
  GError* err = nullptr;
  GstElement* bin = gst_parse_bin_from_description(
      "filesrc name=file ! wavparse ! audioconvert ! audioresample ! "
      "capsfilter caps=audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved",
      TRUE, &err);
  if (!bin) {
    set_state(State::failed, std::string("cannot play the audio file: ") + (err ? err->message : "?"));
    if (err) g_error_free(err);
    return;
  }
  GstElement* file = gst_bin_get_by_name(GST_BIN(bin), "file");
  g_object_set(file, "location", opts.send_audio.c_str(), nullptr);
  gst_object_unref(file);
  gst_bin_add(GST_BIN(pipeline), bin);
  GstPad* src = gst_element_get_static_pad(bin, "src");
  GstPad* sink = gst_element_request_pad_simple(mixer, "sink_%u");
  // The file's timestamps start at 0: shift them to now (plus a little for the mixer's latency), or
  // the mixer would drop everything up to the current running time as late.
  GstClock* clock = gst_pipeline_get_clock(GST_PIPELINE(pipeline));
  if (clock) {
    const GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(pipeline);
    gst_pad_set_offset(src, static_cast<gint64>(now + 50 * GST_MSECOND));
    gst_object_unref(clock);
  }
  gst_pad_link(src, sink);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_element_sync_state_with_parent(bin);
}

void Call::Impl::on_pad_added(GstPad* pad) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  if (!caps) caps = gst_pad_query_caps(pad, nullptr);
  std::string encoding;
  if (caps && gst_caps_get_size(caps) > 0) {
    const char* e = gst_structure_get_string(gst_caps_get_structure(caps, 0), "encoding-name");
    if (e) encoding = e;
  }
  if (caps) gst_caps_unref(caps);

  // Nothing received plays or is recorded before the peer's certificate matched its fingerprint.
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer p) -> GstPadProbeReturn {
        auto* self = static_cast<Impl*>(p);
        return self->verified.load() ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
      },
      this, nullptr);

  std::vector<GstElement*> elements;
  GstElement* tail = nullptr;  // an element of ours to link the chain's end to, or none
  bool first_audio = false;
  if (encoding == "OPUS") {
    std::lock_guard lock(mu);
    first_audio = !audio_linked;
    audio_linked = true;
  }
  if (encoding == "OPUS" && first_audio) {
    elements = {make("queue"), make("rtpopusdepay"), make("opusdec")};
    tail = audio_out;
  } else if (encoding == "VP8") {
    GstElement* dec = make("vp8dec");
    GstPad* out = gst_element_get_static_pad(dec, "src");
    gst_pad_add_probe(
        out, GST_PAD_PROBE_TYPE_BUFFER,
        [](GstPad*, GstPadProbeInfo*, gpointer p) -> GstPadProbeReturn {
          static_cast<Impl*>(p)->video_frames.fetch_add(1);
          return GST_PAD_PROBE_OK;
        },
        this, nullptr);
    gst_object_unref(out);
    GstElement* sink = make(opts.show_video ? "autovideosink" : "fakesink");
    if (!opts.show_video) g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    elements = {make("queue"), make("rtpvp8depay"), dec, make("videoconvert"), sink};
  } else {
    GstElement* sink = make("fakesink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    elements = {sink};
  }
  GstElement* prev = nullptr;
  for (GstElement* e : elements) {
    gst_bin_add(GST_BIN(pipeline), e);
    if (prev) gst_element_link(prev, e);
    prev = e;
  }
  if (tail) gst_element_link(prev, tail);
  for (auto it = elements.rbegin(); it != elements.rend(); ++it) gst_element_sync_state_with_parent(*it);
  GstPad* sink = gst_element_get_static_pad(elements.front(), "sink");
  gst_pad_link(pad, sink);
  gst_object_unref(sink);
  if (tail && !opts.record.empty()) {
    std::lock_guard lock(mu);
    audio_depay = GST_ELEMENT(gst_object_ref(elements.front()));
  }
}

void Call::Impl::on_connection_state() {
  GstWebRTCPeerConnectionState s;
  g_object_get(webrtc, "connection-state", &s, nullptr);
  switch (s) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
      // Read the DTLS transport on our thread, not inside webrtcbin's notify.
      loop.post([self = shared_from_this()] { self->verify_and_connect(); });
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
      set_state(State::failed, "ICE or DTLS failed");
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
      set_state(State::connecting, "connection interrupted, ICE is trying to recover");
      break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
      set_state(State::closed, "closed");
      break;
    default:
      break;
  }
}

void Call::Impl::verify_and_connect() {
  std::optional<Fingerprint> expected;
  {
    std::lock_guard lock(mu);
    if (closing) return;
    expected = remote_fingerprint;
  }
  GstWebRTCRTPTransceiver* t = nullptr;
  g_signal_emit_by_name(webrtc, "get-transceiver", 0, &t);
  std::string pem;
  if (t) {
    GstWebRTCRTPReceiver* receiver = nullptr;
    g_object_get(t, "receiver", &receiver, nullptr);
    if (receiver) {
      GstWebRTCDTLSTransport* transport = nullptr;
      g_object_get(receiver, "transport", &transport, nullptr);
      if (transport) {
        gchar* cert = nullptr;
        g_object_get(transport, "remote-certificate", &cert, nullptr);
        if (cert) pem = cert;
        g_free(cert);
        gst_object_unref(transport);
      }
      gst_object_unref(receiver);
    }
    gst_object_unref(t);
  }
  if (!expected) return set_state(State::failed, "connected without the peer's description");
  if (pem.empty()) return set_state(State::failed, "the peer presented no DTLS certificate");
  if (certificate_digest(pem, expected->hash) != expected->digest)
    return set_state(State::failed, "the peer's DTLS certificate does not match its a=fingerprint");
  verified.store(true);
  set_state(State::connected, "ICE connected, DTLS done, certificate matches the fingerprint");
  if (opts.room_audio) opts.room_audio->call_connected();
  bool start = false;
  {
    std::lock_guard lock(mu);
    start = mixer && !file_started && !closing;
    file_started = true;
  }
  if (start) start_file();
}

Stats Call::Impl::collect_stats() {
  Stats st;
  {
    std::lock_guard lock(mu);
    st.connected = state == State::connected;
  }
  st.video_frames_decoded = video_frames.load();
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(webrtc, "get-stats", nullptr, promise);
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) {
    gst_promise_unref(promise);
    return st;
  }
  const GstStructure* reply = gst_promise_get_reply(promise);
  // Codec ids → "audio/OPUS"; inbound-rtp entries name their codec.
  std::vector<std::pair<std::string, std::string>> codec_names;
  const gint n = reply ? gst_structure_n_fields(reply) : 0;
  for (gint pass = 0; pass < 2; ++pass) {
    for (gint i = 0; i < n; ++i) {
      const GValue* v = gst_structure_get_value(reply, gst_structure_nth_field_name(reply, i));
      if (!v || !GST_VALUE_HOLDS_STRUCTURE(v)) continue;
      const GstStructure* s = gst_value_get_structure(v);
      GstWebRTCStatsType type;
      if (!gst_structure_get(s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) continue;
      const char* id = gst_structure_get_string(s, "id");
      if (pass == 0 && type == GST_WEBRTC_STATS_CODEC) {
        const char* mime = gst_structure_get_string(s, "mime-type");
        if (id && mime) {
          codec_names.emplace_back(id, mime);
          if (std::find(st.codecs.begin(), st.codecs.end(), mime) == st.codecs.end())
            st.codecs.emplace_back(mime);
        }
      } else if (pass == 1 && type == GST_WEBRTC_STATS_INBOUND_RTP) {
        // "kind" says audio or video; else the codec entry's mime type (only the sending side's
        // codec entries carry one in 1.22).
        const char* kind = gst_structure_get_string(s, "kind");
        const char* codec = gst_structure_get_string(s, "codec-id");
        std::string mime;
        for (const auto& [cid, m] : codec_names)
          if (codec && cid == codec) mime = m;
        if (kind ? std::string_view(kind) != "audio" : mime.rfind("audio/", 0) != 0) continue;
        guint64 packets = 0, bytes = 0;
        gint64 lost = 0;
        if (gst_structure_get_uint64(s, "packets-received", &packets)) st.audio_packets_received += packets;
        if (gst_structure_get_uint64(s, "bytes-received", &bytes)) st.audio_bytes_received += bytes;
        if (gst_structure_get_int64(s, "packets-lost", &lost)) st.packets_lost += lost;
      } else if (pass == 1 && type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
        double rtt = 0;
        if (gst_structure_get_double(s, "round-trip-time", &rtt) && !st.round_trip_time)
          st.round_trip_time = rtt;
      }
    }
  }
  gst_promise_unref(promise);
  return st;
}

void Call::Impl::finish_recording() {
  GstElement* depay = nullptr;
  {
    std::lock_guard lock(mu);
    depay = std::exchange(audio_depay, nullptr);  // once: a failure and close() may both get here
    if (!depay && !eos_sent) return;              // nothing heard: the file stays empty
    eos_sent = true;
  }
  if (!depay) {  // the other one sent it: wait for it as well
    std::unique_lock lock(mu);
    recorded_cv.wait_for(lock, 2s, [this] { return recorded; });
    return;
  }
  // Stop what webrtcbin delivers from reaching the recorder, then end its stream there.
  verified.store(false);
  GstPad* pad = gst_element_get_static_pad(depay, "sink");
  gst_pad_send_event(pad, gst_event_new_eos());
  gst_object_unref(pad);
  gst_object_unref(depay);
  std::unique_lock lock(mu);
  recorded_cv.wait_for(lock, 2s, [this] { return recorded; });
}

void prepare() { (void)Loop::get(); }

Result<std::unique_ptr<Call>> Call::create(Options options, Callbacks callbacks) {
  if (options.room_audio) {  // the room's input and output take the place of these
    options.send_audio.clear();
    options.record.clear();
  }
  if (!options.send_audio.empty() && !readable(options.send_audio))
    return tl::unexpected(failed("cannot read " + options.send_audio));
  if (!options.record.empty() && !writable(options.record))
    return tl::unexpected(failed("cannot write " + options.record));
  for (const auto& n : options.ice_networks)
    if (n.empty() || n.size() > 64) return tl::unexpected(bad("a malformed ice_networks entry"));
  if (!options.turn.empty() && options.turn.rfind("turn://", 0) != 0 &&
      options.turn.rfind("turns://", 0) != 0)
    return tl::unexpected(bad("a TURN server must be turn://user:pass@host:port"));
  auto impl = std::make_shared<Impl>();
  impl->opts = std::move(options);
  impl->cbs = std::move(callbacks);
  if (impl->opts.room_audio) impl->room_source = impl->opts.room_audio->add_source();
  try {
    impl->build();
  } catch (const std::exception& e) {
    impl->closing = true;
    if (impl->pipeline) gst_element_set_state(impl->pipeline, GST_STATE_NULL);
    if (impl->webrtc) g_signal_handlers_disconnect_by_data(impl->webrtc, impl.get());
    if (impl->room_source) impl->opts.room_audio->remove_source(impl->room_source);
    return tl::unexpected(failed(e.what()));
  }
  if (impl->opts.room_audio) impl->attach_room();
  impl->set_state(State::connecting, "starting");
  return std::unique_ptr<Call>(new Call(std::move(impl)));
}

Call::Call(std::shared_ptr<Impl> impl) : m_impl(std::move(impl)) {}

Call::~Call() { close(); }

namespace {
// Waits for a webrtcbin promise (webrtcbin replies on its own thread); the reply's "error", if any.
std::string wait_error(GstPromise* promise) {
  std::string error;
  if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED) return "webrtcbin did not answer";
  const GstStructure* reply = gst_promise_get_reply(promise);
  if (reply && gst_structure_has_field(reply, "error")) {
    GError* err = nullptr;
    gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    error = err ? err->message : "webrtcbin refused the description";
    if (err) g_error_free(err);
  }
  return error;
}

std::string sdp_text(GstWebRTCSessionDescription* desc) {
  gchar* text = gst_sdp_message_as_text(desc->sdp);
  std::string out(text ? text : "");
  g_free(text);
  return out;
}

// Makes our offer or answer, hands it to the caller, then applies it. Delivered before it is applied,
// so that the peer gets it before any candidate the gathering then produces.
Status local_description(Call::Impl& impl, bool offer) {
  const char* kind = offer ? "offer" : "answer";
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(impl.webrtc, offer ? "create-offer" : "create-answer", nullptr, promise);
  std::string error = wait_error(promise);
  GstWebRTCSessionDescription* desc = nullptr;
  if (error.empty()) {
    gst_structure_get(gst_promise_get_reply(promise), kind, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc,
                      nullptr);
    if (!desc) error = std::string("webrtcbin made no ") + kind;
  }
  gst_promise_unref(promise);
  if (!error.empty()) return tl::unexpected(failed(std::string("cannot make our ") + kind + ": " + error));
  std::string text = filter_candidates(sdp_text(desc), impl.opts.ice_networks);
  impl.deliver([kind, text](Call::Impl& s) {
    if (s.cbs.on_description) s.cbs.on_description(kind, text);
  });
  GstPromise* set = gst_promise_new();
  g_signal_emit_by_name(impl.webrtc, "set-local-description", desc, set);
  error = wait_error(set);
  gst_promise_unref(set);
  gst_webrtc_session_description_free(desc);
  if (!error.empty()) {
    const auto why = std::string("cannot apply our ") + kind + ": " + error;
    impl.set_state(State::failed, why);
    return tl::unexpected(failed(why));
  }
  return {};
}

}  // namespace

Status Call::create_offer() {
  auto& impl = *m_impl;
  {
    std::lock_guard lock(impl.mu);
    if (impl.closing) return tl::unexpected(failed("the call is closed"));
  }
  return local_description(impl, true);
}

Status Call::set_remote_description(std::string_view type, std::string_view sdp) {
  auto& impl = *m_impl;
  if (auto ok = check_sdp(type, sdp); !ok) return ok;
  {
    std::lock_guard lock(impl.mu);
    if (impl.closing) return tl::unexpected(failed("the call is closed"));
  }
  const std::string filtered = filter_candidates(sdp, impl.opts.ice_networks);
  GstSDPMessage* msg = nullptr;
  gst_sdp_message_new(&msg);
  gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(filtered.data()),
                               static_cast<guint>(filtered.size()), msg);
  // The fingerprint the peer's certificate must match (check_sdp made sure there is one).
  const GstSDPMedia* first = gst_sdp_message_get_media(msg, 0);
  const char* fp = gst_sdp_media_get_attribute_val(first, "fingerprint");
  if (!fp) fp = gst_sdp_message_get_attribute_val(msg, "fingerprint");
  {
    std::lock_guard lock(impl.mu);
    impl.remote_fingerprint = parse_fingerprint(fp ? fp : "");
  }
  const bool offer = type == "offer";
  GstWebRTCSessionDescription* desc =
      gst_webrtc_session_description_new(offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, msg);
  GstPromise* promise = gst_promise_new();
  g_signal_emit_by_name(impl.webrtc, "set-remote-description", desc, promise);
  std::string error = wait_error(promise);
  gst_promise_unref(promise);
  gst_webrtc_session_description_free(desc);
  if (!error.empty()) return tl::unexpected(bad("webrtcbin refused the " + std::string(type) + ": " + error));
  if (!offer) return {};
  return local_description(impl, false);
}

Status Call::add_remote_candidate(unsigned mline_index, std::string_view line) {
  auto& impl = *m_impl;
  if (auto ok = check_candidate(line); !ok) return ok;
  if (mline_index >= MAX_MLINES) return tl::unexpected(bad("an ICE candidate for a missing m-line"));
  if (!impl.opts.ice_networks.empty() && !address_allowed(impl.opts.ice_networks, candidate_address(line)))
    return {};  // outside ice_networks: ignored, as promised
  {
    std::lock_guard lock(impl.mu);
    if (impl.closing) return tl::unexpected(failed("the call is closed"));
  }
  const std::string text(line);
  g_signal_emit_by_name(impl.webrtc, "add-ice-candidate", mline_index, text.c_str());
  return {};
}

State Call::state() const {
  std::lock_guard lock(m_impl->mu);
  return m_impl->state;
}

Stats Call::stats() {
  {
    std::lock_guard lock(m_impl->mu);
    if (m_impl->closing) {
      Stats st;
      st.video_frames_decoded = m_impl->video_frames.load();
      return st;
    }
  }
  return m_impl->collect_stats();
}

void Call::close() {
  auto& impl = *m_impl;
  State before;
  {
    std::lock_guard lock(impl.mu);
    if (impl.closing) return;
    before = impl.state;
    impl.closing = true;
    if (impl.state != State::failed) impl.state = State::closed;
  }
  if (!impl.opts.record.empty()) impl.finish_recording();
  impl.detach_room();
  gst_element_set_state(impl.pipeline, GST_STATE_NULL);  // also closes the recording
  g_signal_handlers_disconnect_by_data(impl.webrtc, &impl);
  // The last callback: closed (unless the call had failed); nothing is called after it.
  auto last = [before](Impl& self) {
    if (self.callbacks_off) return;
    self.callbacks_off = true;
    if (before != State::failed && before != State::closed && self.cbs.on_state)
      self.cbs.on_state(State::closed, "closed");
  };
  if (impl.loop.here()) {
    last(impl);
    return;
  }
  std::promise<void> done;
  impl.loop.post([self = m_impl, &done, last] {
    last(*self);
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace kith::media
