#include "api/ui_auth.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "api/detail/pipeline.hpp"
#include "base/hex.hpp"

namespace kith::api {
namespace {

// 32 bytes from the kernel's CSPRNG, as hex. getrandom() blocks only before the pool is seeded at
// boot; a failure here means no safe randomness, so refusing (500) is right.
std::string random_hex32() {
  std::array<char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n <= 0) throw std::runtime_error("getrandom failed");
    got += static_cast<std::size_t>(n);
  }
  return base::to_hex(std::string_view(bytes.data(), bytes.size()));
}

}  // namespace

UiSessions::UiSessions(std::function<Clock::time_point()> now) : m_now(std::move(now)) {}

std::string UiSessions::issue_login_token() {
  auto token = random_hex32();
  std::lock_guard lock(m_mutex);
  auto now = m_now();
  std::erase_if(m_tokens, [&](const Entry& e) { return e.at <= now; });
  if (m_tokens.size() >= MAX_LOGIN_TOKENS) m_tokens.erase(m_tokens.begin());
  m_tokens.push_back({token, now + LOGIN_TOKEN_LIFETIME});
  return token;
}

std::optional<std::string> UiSessions::redeem(std::string_view login_token) {
  std::lock_guard lock(m_mutex);
  auto now = m_now();
  auto it = std::find_if(m_tokens.begin(), m_tokens.end(),
                         [&](const Entry& e) { return detail::constant_time_equal(e.value, login_token); });
  if (it == m_tokens.end()) return std::nullopt;
  bool live = it->at > now;
  m_tokens.erase(it);  // single use, even when it had expired
  if (!live) return std::nullopt;
  auto session = random_hex32();
  if (m_sessions.size() >= MAX_SESSIONS) {
    m_sessions.erase(std::min_element(m_sessions.begin(), m_sessions.end(),
                                      [](const Entry& a, const Entry& b) { return a.at < b.at; }));
  }
  m_sessions.push_back({session, now});
  return session;
}

bool UiSessions::is_session(std::string_view session) {
  if (session.empty()) return false;
  std::lock_guard lock(m_mutex);
  bool found = false;
  // Compare against every session, so the time does not tell which one (or whether any) matched.
  for (auto& e : m_sessions) {
    if (detail::constant_time_equal(e.value, session)) {
      e.at = m_now();
      found = true;
    }
  }
  return found;
}

void UiSessions::end_session(std::string_view session) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_sessions, [&](const Entry& e) { return detail::constant_time_equal(e.value, session); });
}

std::string UiSessions::cookie_name(std::uint16_t port) { return "kith_session_" + std::to_string(port); }

std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return std::nullopt;
}

}  // namespace kith::api
