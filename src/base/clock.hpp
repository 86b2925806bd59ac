#pragma once
// Wall-clock helpers for records and reports (not for measuring durations: use steady_clock).
#include <cstdint>
#include <string>

namespace kith::base {

// Seconds since the Unix epoch.
std::int64_t unix_seconds();
// RFC 3339 UTC, e.g. "2026-11-26T12:34:56Z".
std::string rfc3339_utc(std::int64_t unix_seconds);
// Compact UTC for file names, e.g. "20261126T123456Z".
std::string compact_utc(std::int64_t unix_seconds);

}  // namespace kith::base
