#pragma once
// Login for the web UI: one-time login tokens (handed out to Bearer-authenticated callers such as
// `kith ui`) that a browser exchanges, once, for a session cookie. Sessions live in memory only, so
// a daemon restart logs every browser out.
//
// Why not put the API token in the page: a token in a URL stays in the history, in logs and in the
// Referer; the login token is useless once redeemed or after two minutes, and the session id lives in
// an HttpOnly cookie that page scripts cannot read.
//
// Thread-safe: every method may be called from any thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kith::api {

class UiSessions {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds LOGIN_TOKEN_LIFETIME{120};
  static constexpr std::size_t MAX_LOGIN_TOKENS = 16;  // unredeemed; the oldest is dropped beyond this
  static constexpr std::size_t MAX_SESSIONS = 32;      // the least recently used is dropped beyond this

  // `now` is injectable so tests can expire tokens without waiting.
  explicit UiSessions(std::function<Clock::time_point()> now = Clock::now);

  // A fresh random 256-bit login token (64 hex digits), valid for LOGIN_TOKEN_LIFETIME, usable once.
  std::string issue_login_token();

  // Consumes `login_token`: returns a new random 256-bit session id, or nullopt if the token is
  // unknown, already used or expired.
  std::optional<std::string> redeem(std::string_view login_token);

  // True if `session` is a live session id (constant-time compare against each).
  bool is_session(std::string_view session);

  // Ends a session (logout). Unknown ids are ignored.
  void end_session(std::string_view session);

  // The cookie name for a server on `port`. Cookies are not isolated by port, so two daemons on
  // 127.0.0.1 would otherwise overwrite each other's session in one browser.
  static std::string cookie_name(std::uint16_t port);

 private:
  struct Entry {
    std::string value;
    Clock::time_point at;  // login token: expiry; session: last use
  };
  std::function<Clock::time_point()> m_now;
  std::mutex m_mutex;
  std::vector<Entry> m_tokens;
  std::vector<Entry> m_sessions;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name);

}  // namespace kith::api
