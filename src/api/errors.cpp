#include "api/errors.hpp"

namespace kith::api {
const std::error_category& category() {
  // Indexed by enumerator value; slot 0 is unused because errc starts at 1 (0 means "no error").
  static const char* const NAMES[] = {
      "",         "bad_request",  "unauthorized", "forbidden",    "not_found", "conflict", "server_error",
      "bad_json", "bad_response", "timeout",      "listen_failed"};
  static const base::NamedCategory instance("kith.api", "api", NAMES);
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
