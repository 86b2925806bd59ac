#pragma once
// The process's one GLib main loop thread for callbacks (and gst_init, once). It lives as long as the
// process: a call may be destroyed from any thread at any time, including static destruction.
// Everything that runs GStreamer or GLib callbacks of a call runs there (call.cpp, call_pipeline.cpp).
#include <glib.h>

#include <functional>
#include <thread>

namespace kith::media {

struct Loop {
  GMainContext* ctx = nullptr;
  std::thread::id id;

  // The loop, started (with gst_init and the process's DTLS certificate) on first use.
  static Loop& get();
  bool here() const { return std::this_thread::get_id() == id; }

  // Runs `f` on the loop thread, after what was posted before. The release/acquire pair tells
  // ThreadSanitizer about the hand-over GLib does with its own locks (as in ice_link.cpp).
  void post(std::function<void()> f);
};

}  // namespace kith::media
