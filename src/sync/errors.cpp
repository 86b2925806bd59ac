#include "sync/errors.hpp"

namespace kith::sync {

const std::error_category& category() {
  static const char* const NAMES[] = {
      "",           "folder_missing", "marker_missing", "bad_name",      "changed_while_hashing",
      "cancelled",  "unknown_folder", "unknown_device", "folder_exists", "not_offered",
      "bad_ignores"};
  static const base::NamedCategory instance("kith.sync", "sync", NAMES);
  return instance;
}

}  // namespace kith::sync
