#include "base/clock.hpp"

#include <chrono>
#include <ctime>

namespace kith::base {
namespace {

std::string format_utc(std::int64_t t, const char* format) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  auto n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

}  // namespace

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_utc(std::int64_t t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }
std::string compact_utc(std::int64_t t) { return format_utc(t, "%Y%m%dT%H%M%SZ"); }

}  // namespace kith::base
