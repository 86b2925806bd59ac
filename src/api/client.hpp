#pragma once
// Synchronous client of the local API, for the CLI (and tests).
//
// Each call opens one connection, runs it on a private io_context on the calling thread and returns
// when done or when the timeout passes, so the CLI never hangs on a stuck daemon. Not thread-safe:
// use one Client per thread.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.hpp"

namespace kith::api {

class Client {
 public:
  // host: "127.0.0.1", "localhost" or "::1" (the Host header is built from it, so it must be one the
  // server accepts). token: the contents of the node's api.token.
  Client(std::string host, std::uint16_t port, std::string token);

  // Sends `body` (if any) as JSON and returns the response's JSON (null for an empty body).
  // Errors:
  //  - base::errc::unavailable: the daemon is not reachable (refused, unreachable, connect timeout,
  //    connection lost);
  //  - api::errc::{bad_request, unauthorized, forbidden, not_found, conflict, server_error}: the
  //    server answered with that HTTP status; the message is the server's own error message;
  //  - api::errc::timeout: connected but no complete answer within the timeout;
  //  - api::errc::bad_response / bad_json: the answer was not valid HTTP / JSON.
  Result<nlohmann::json> request(const std::string& method, const std::string& path,
                                 const nlohmann::json* body = nullptr);

  // Reads GET /api/v1/events and calls on_event for each event until it returns false (success).
  // The stream never ends on its own, so every other ending is an error: the daemon closed it
  // (base::errc::unavailable), or nothing, not even a keepalive, arrived for the idle timeout
  // (api::errc::timeout). Exceptions thrown by on_event propagate to the caller.
  Status follow_events(std::function<bool(const std::string& type, const nlohmann::json& data)> on_event);

  // Per-call limit for request() (connect, send, whole answer). Default 30 s.
  void set_timeout(std::chrono::milliseconds timeout) { m_timeout = timeout; }
  // follow_events() fails after this long without a byte; the server sends keepalives every 15 s.
  // Default 60 s.
  void set_event_idle_timeout(std::chrono::milliseconds timeout) { m_event_idle_timeout = timeout; }

 private:
  std::string m_host;
  std::uint16_t m_port;
  std::string m_token;
  std::chrono::milliseconds m_timeout{30000};
  std::chrono::milliseconds m_event_idle_timeout{60000};
  // Runs only inside request()/follow_events(), on the caller's thread. Held by pointer so a Client
  // can be moved (io_context cannot).
  std::unique_ptr<boost::asio::io_context> m_ioc;
};

}  // namespace kith::api
