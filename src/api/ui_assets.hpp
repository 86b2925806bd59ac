#pragma once
// The web UI's files (the repository's web/ folder), embedded in the binary at build time by
// cmake/embed_assets.cmake, so the daemon serves the UI with no files beside it and no network.
#include <span>
#include <string_view>

namespace kith::api {

struct UiAsset {
  std::string_view path;  // relative to web/, '/'-separated: "index.html", "js/app.js"
  std::string_view data;
};

// Every embedded file (generated ui_assets_data.cpp).
std::span<const UiAsset> ui_assets();

}  // namespace kith::api
