// The GStreamer pipeline of a call (call_impl.hpp): built once per call, its elements linked as the
// header of call.cpp draws them; what arrives is linked when webrtcbin adds its pads.
#include <arpa/inet.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <nice/agent.h>
#include <sys/socket.h>

#include <algorithm>

#include "media/call_impl.hpp"
#include "media/gst_detail.hpp"
#include "media/mixer.hpp"

namespace kith::media {
namespace {

using gst::capsfilter;
using gst::chain;
using gst::make;

// What a call may queue of the room's input before its encoder: 200 ms of 48 kHz mono S16.
constexpr std::size_t AUDIO_BYTES_QUEUED = AUDIO_RATE / 5 * 2;

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

}  // namespace

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

}  // namespace kith::media
