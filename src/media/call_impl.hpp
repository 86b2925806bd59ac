#pragma once
// Call::Impl, the state of one call (call.hpp), shared by call.cpp (set-up, verification, stats, the
// public methods) and call_pipeline.cpp (the GStreamer pipeline it builds). Private to the module.
#define GST_USE_UNSTABLE_API  // gst/webrtc (1.22 still calls its API unstable)
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "media/call.hpp"
#include "media/detail.hpp"
#include "media/glib_loop.hpp"
#include "media/room_audio.hpp"

namespace kith::media {

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

}  // namespace kith::media
