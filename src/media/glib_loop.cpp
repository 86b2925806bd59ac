#include "media/glib_loop.hpp"

#include <gst/gst.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <future>

namespace kith::media {

Loop& Loop::get() {
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

void Loop::post(std::function<void()> f) {
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

}  // namespace kith::media
