#include "app/home.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "app/errors.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"
#include "base/host_port.hpp"

namespace kith::app {

std::filesystem::path Home::resolve(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::absolute(flag);
  if (const char* env = std::getenv("KITH_HOME"); env && *env) return std::filesystem::absolute(env);
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "kith";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".local" / "share" / "kith";
}

Status Home::prepare() const {
  if (auto r = base::ensure_dir(m_root, 0700); !r) return r;
  for (const auto& dir : {staging_dir(), quarantine_dir()}) {
    if (auto r = base::ensure_dir(dir, 0700); !r) return r;
  }
  return {};
}

Result<std::string> Home::api_token() const {
  auto existing = base::read_file(token_file(), 4096);
  if (existing) {
    auto token = *existing;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (!token.empty()) return token;
  }
  std::random_device rd;  // the kernel's CSPRNG on Linux
  std::string bytes(32, '\0');
  for (auto& c : bytes) c = static_cast<char>(rd());
  auto token = base::to_hex(bytes);
  if (auto r = base::atomic_write_file(token_file(), token + "\n", 0600); !r)
    return tl::unexpected(r.error());
  return token;
}

Result<HomeLock> HomeLock::acquire(const Home& home) {
  auto path = home.root() / "lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(make_error_code(errc::home_locked), "cannot open " + path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(make_error_code(errc::home_locked), "another kith process is using " + home.root().string() +
                                                        "; stop it, or pass a different --home");
  }
  return HomeLock(fd);
}

HomeLock::~HomeLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing releases the flock
}

Status write_daemon_info(const Home& home, const DaemonInfo& info) {
  nlohmann::json j{{"pid", info.pid},
                   {"api", base::join_host_port(info.api_host, info.api_port)},
                   {"bt_port", info.bt_port}};
  return base::atomic_write_file(home.daemon_file(), j.dump() + "\n", 0600);
}

std::optional<DaemonInfo> read_daemon_info(const Home& home) {
  auto text = base::read_file(home.daemon_file(), 4096);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("pid") || !j.contains("api")) return std::nullopt;
  DaemonInfo info;
  try {
    info.pid = j.at("pid").get<int>();
    auto api = base::parse_host_port(j.at("api").get<std::string>());
    if (!api) return std::nullopt;
    info.api_host = api->host;
    info.api_port = api->port;
    info.bt_port = j.value("bt_port", std::uint16_t{0});
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (info.pid <= 0 || ::kill(info.pid, 0) != 0) return std::nullopt;  // stale file from a killed daemon
  return info;
}

}  // namespace kith::app
