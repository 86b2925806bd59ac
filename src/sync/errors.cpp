#include "sync/errors.hpp"

#include <cerrno>

namespace kith::sync {

const std::error_category& category() {
  static const char* const NAMES[] = {"",
                                      "folder_missing",
                                      "marker_missing",
                                      "bad_name",
                                      "changed_while_hashing",
                                      "cancelled",
                                      "unknown_folder",
                                      "unknown_device",
                                      "folder_exists",
                                      "not_offered",
                                      "bad_ignores",
                                      "disk_full",
                                      "case_conflict",
                                      "not_releasable"};
  static const base::NamedCategory instance("kith.sync", "sync", NAMES);
  return instance;
}

std::error_code io_code(int err) {
  if (err == ENOSPC || err == EDQUOT) return make_error_code(errc::disk_full);
  return base::make_error_code(base::errc::io_error);
}

}  // namespace kith::sync
