#pragma once
// Internal to safety (not for other modules): what Scanner::scan() and Scanner::scan_source() share, so
// that a file scanned whole and a file scanned while it arrives are scanned exactly alike.
#include <clamav.h>

#include "safety/scanner.hpp"

namespace kith::safety::detail {

// All parsers (archives, documents, executables, mail); all matches, so that a heuristic alert (e.g.
// "encrypted") does not hide a real signature in the same file; and the alerts that say a file was not
// fully scanned or carries macros.
cl_scan_options scan_options();

// What libclamav's callbacks (detections, log messages) get as their context, in both kinds of scan.
struct ScanContext {
  FileScan* out = nullptr;      // detections are added to out->names
  const bool* quiet = nullptr;  // while *quiet (a stream that gave up), libclamav's complaints about the
                                // reads that now fail are logged at debug level only
};

// Fills `out` from what cl_scan*_callback returned (`name`: its virname).
void take_result(cl_error_t rc, const char* name, FileScan& out);

// libclamav scans nothing in files this small (cl_scandesc_callback calls them clean unread), so
// scan_source() does the same, to give the same verdict as scan().
inline constexpr std::uint64_t UNSCANNED_SIZE = 5;

}  // namespace kith::safety::detail
