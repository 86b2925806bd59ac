#include "api/errors.hpp"

#include <iterator>

namespace kith::api {
namespace {

// Indexed by enumerator value; slot 0 is unused because errc starts at 1 (0 means "no error").
const char* const API_NAMES[] = {
    "",         "bad_request",  "unauthorized", "forbidden",    "not_found", "conflict", "server_error",
    "bad_json", "bad_response", "timeout",      "listen_failed"};

class ApiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kith.api"; }
  std::string message(int ev) const override {
    if (ev > 0 && ev < static_cast<int>(std::size(API_NAMES))) return API_NAMES[ev];
    return "unknown";
  }
};

}  // namespace

const std::error_category& category() {
  static const ApiCategory instance;
  // Registered exactly once (thread-safe static init) before any api error_code can exist, so every
  // Error carrying one can name itself.
  static const bool registered = [] {
    base::register_category_names({&instance, "api", API_NAMES, static_cast<int>(std::size(API_NAMES))});
    return true;
  }();
  (void)registered;
  return instance;
}

errc errc_from_status(int http_status) {
  switch (http_status) {
    case 400:
      return errc::bad_request;
    case 401:
      return errc::unauthorized;
    case 403:
      return errc::forbidden;
    case 404:
      return errc::not_found;
    case 409:
      return errc::conflict;
    default:
      return errc::server_error;
  }
}

}  // namespace kith::api
