#pragma once
// GStreamer helpers shared by call.cpp and room_audio.cpp; not for other modules (they never see
// GStreamer types). Errors while building a pipeline are thrown and turned into a Result by create().
#include <gst/gst.h>

#include <cstdio>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace kith::media::gst {

inline GstElement* make(const char* factory, const char* name = nullptr) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (!e) throw std::runtime_error(std::string("the GStreamer element ") + factory + " is not installed");
  return e;
}

inline GstElement* capsfilter(const char* caps) {
  GstElement* f = make("capsfilter");
  GstCaps* c = gst_caps_from_string(caps);
  g_object_set(f, "caps", c, nullptr);
  gst_caps_unref(c);
  return f;
}

// Adds the elements to `bin` and links them in order; throws when a link fails.
inline void chain(GstElement* bin, std::initializer_list<GstElement*> elements) {
  GstElement* prev = nullptr;
  for (GstElement* e : elements) {
    gst_bin_add(GST_BIN(bin), e);
    if (prev && !gst_element_link(prev, e))
      throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(prev) + " to " +
                               GST_ELEMENT_NAME(e));
    prev = e;
  }
}

inline bool readable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

// The raw audio every call decodes to and every room's input is made of.
inline constexpr const char* PCM_CAPS = "audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved";

}  // namespace kith::media::gst
