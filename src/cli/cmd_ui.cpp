// `kith ui`: a login link for the running daemon's web UI. The daemon mints a one-time login token
// (valid two minutes); opening the link trades it for a session cookie and drops it from the URL.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "api/client.hpp"
#include "cli/commands.hpp"

extern char** environ;

namespace kith::cli {
namespace {

// The host part of a URL for the daemon's listen address: a wildcard address is reached on loopback.
std::string url_host(const std::string& listen_host) {
  if (listen_host.empty() || listen_host == "0.0.0.0") return "127.0.0.1";
  if (listen_host == "::") return "[::1]";
  if (listen_host.find(':') != std::string::npos) return "[" + listen_host + "]";
  return listen_host;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string rest = path;
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto end = rest.find(':', start);
    auto dir = rest.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty() && ::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

// Starts xdg-open and waits for it (it hands the URL to the desktop's browser and returns).
bool open_in_browser(const std::string& url) {
  if (!on_path("xdg-open")) return false;
  pid_t pid = 0;
  char* argv[] = {const_cast<char*>("xdg-open"), const_cast<char*>(url.c_str()), nullptr};
  if (::posix_spawnp(&pid, "xdg-open", nullptr, nullptr, argv, environ) != 0) return false;
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int run_ui(Context& ctx, bool open) {
  auto info = app::read_daemon_info(ctx.home);
  // A daemon that is starting: wait for its API (as other commands do, up to 2 minutes).
  for (int i = 0; !info && app::starting_daemon(ctx.home) && i < 6000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    info = app::read_daemon_info(ctx.home);
  }
  if (!info) {
    return report(ctx, Error{base::make_error_code(base::errc::unavailable),
                             "no daemon runs for " + ctx.home.root().string() +
                                 "; the web UI is served by `kith daemon`, start that first"});
  }
  auto token = ctx.home.api_token();
  if (!token) return report(ctx, token.error());
  const std::string host = url_host(info->api_host);
  api::Client client(host.front() == '[' ? host.substr(1, host.size() - 2) : host, info->api_port, *token);
  auto answer = client.request("POST", "/api/v1/ui/login-tokens");
  if (!answer) return report(ctx, answer.error());
  const std::string url =
      "http://" + host + ":" + std::to_string(info->api_port) + answer->value("path", std::string());
  const int expires_in = answer->value("expires_in", 0);

  bool opened = open && open_in_browser(url);
  if (ctx.json) {
    std::printf(
        "%s\n",
        nlohmann::json({{"url", url}, {"expires_in", expires_in}, {"opened", opened}}).dump().c_str());
  } else {
    std::printf("%s\n", url.c_str());
  }
  if (open && !opened) {
    std::fprintf(stderr, "kith: could not start a browser (no xdg-open); open the link above yourself\n");
  } else if (!opened && !ctx.json) {
    std::fprintf(stderr, "Open this link in a browser on this machine within %d s; it works once.\n",
                 expires_in);
  }
  return 0;
}

}  // namespace kith::cli
