#include "sync/errors.hpp"

namespace kith::sync {

const std::error_category& category() {
  // In the order of errc (errors.hpp).
  static const char* const NAMES[] = {"",
                                      "unknown_folder",
                                      "unknown_device",
                                      "folder_exists",
                                      "not_offered",
                                      "folder_missing",
                                      "marker_missing",
                                      "bad_name",
                                      "changed_while_hashing",
                                      "cancelled"};
  static const base::NamedCategory instance("kith.sync", "sync", NAMES);
  return instance;
}

}  // namespace kith::sync
