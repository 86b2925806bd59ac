// A call over webrtcbin (call.hpp). Everything GStreamer and GLib stays in this module (call_impl.hpp:
// one call's state; call_pipeline.cpp: its pipeline; glib_loop.*: the callback thread; sdp_check.cpp).
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

#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <gst/sdp/sdp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>
#include <utility>

#include "media/call_impl.hpp"
#include "media/gst_detail.hpp"

namespace kith::media {
namespace {

using namespace std::chrono_literals;
using gst::readable;

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
