#pragma once
// Error codes of the api module: what a Client call can fail with, beyond base::errc::unavailable
// (the daemon is not reachable). The HTTP statuses a server answers with map onto these, so the CLI
// can branch on the kind of failure while printing the server's own message.
#include <system_error>

#include "base/error.hpp"

namespace kith::api {

enum class errc {
  bad_request = 1,  // HTTP 400: the server rejected the request as malformed (bad JSON, bad query)
  unauthorized,     // HTTP 401: missing or wrong API token
  forbidden,        // HTTP 403: Host or Origin not allowed, or the action is not permitted
  not_found,        // HTTP 404: no such route or no such object
  conflict,         // HTTP 409: the request conflicts with the current state
  server_error,     // any other non-2xx HTTP status
  bad_json,         // a request or response body is not valid JSON
  bad_response,     // the server's reply is not valid HTTP or lacks the expected shape
  timeout,          // the server accepted the connection but did not answer in time
  listen_failed,    // HttpServer::start could not bind or listen on the configured address
};

// A base::NamedCategory, so Error::code_name() yields "api.unauthorized" and the like.
const std::error_category& category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), category()}; }

// Maps a non-2xx HTTP status onto the error a client reports (400 -> bad_request, ...).
errc errc_from_status(int http_status);

}  // namespace kith::api

template <>
struct std::is_error_code_enum<kith::api::errc> : std::true_type {};
