#include <csignal>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "api/errors.hpp"
#include "app/errors.hpp"
#include "base/log.hpp"
#include "base/terminal.hpp"
#include "base/url.hpp"
#include "cli/backend.hpp"
#include "cli/commands.hpp"

namespace kith::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

bool is_bad_input(const Error& e) {
  if (app::is_user_error(e)) return true;
  // Errors the daemon reported back through the API: 4xx means the request was at fault.
  return e.code == api::make_error_code(api::errc::bad_request) ||
         e.code == api::make_error_code(api::errc::not_found) ||
         // 403 from a route: the request is refused by policy (a block-listed info-hash)
         e.code == api::make_error_code(api::errc::forbidden) ||
         e.code == api::make_error_code(api::errc::conflict);
}

}  // namespace

int report(const Context& ctx, const Error& error) {
  if (ctx.json) {
    nlohmann::json j{{"error", {{"code", error.code_name()}, {"message", error.message}}}};
    std::printf("%s\n", j.dump().c_str());
  }
  // Messages quote links, file names and what peers sent: shown escaped (the JSON above is exact).
  std::fprintf(stderr, "kith: %s\n", base::terminal_safe(error.message).c_str());
  return is_bad_input(error) ? 2 : 1;
}

Result<std::unique_ptr<Backend>> open_backend(Context& ctx) {
  base::init_logging(ctx.settings.get_string("log.level"), ctx.home.root() / "kith.log");
  if (auto r = ctx.home.prepare(); !r) return tl::unexpected(r.error());
  return connect(ctx.home, ctx.settings);
}

std::string encode_segment(const std::string& text) { return base::percent_encode(text); }

std::string format_time(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

bool interrupted() { return g_interrupted != 0; }

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = 1; };
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace kith::cli
