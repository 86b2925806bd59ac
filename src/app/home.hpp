#pragma once
// The node's home folder and the small files in it that other processes read.
//
//   HOME/config.toml     settings (see settings.hpp)
//   HOME/state.sqlite    transfers, resume data, session state
//   HOME/api.token       bearer token for the local API (mode 0600)
//   HOME/daemon.json     {"pid", "api", "bt_port"} while a daemon runs (how the CLI finds it)
//   HOME/lock            flock()ed by the one process that runs a node for this home
//   HOME/staging/<id>/   downloads until they are complete, verified, scanned and released
//   HOME/quarantine/<id>/ downloads the safety check held back (see safety/)
//   HOME/reports/        JSON reports for administrators (`kith report`)
//   HOME/keys/user.key   the person's Ed25519 key (mode 0600; signs shared links)
//   HOME/uploads/<id>/   files a browser uploaded to share (the web UI's drag and drop)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/error.hpp"

namespace kith::app {

class Home {
 public:
  // --home, else $KITH_HOME, else $XDG_DATA_HOME/kith, else ~/.local/share/kith.
  static std::filesystem::path resolve(const std::string& flag);

  explicit Home(std::filesystem::path root) : m_root(std::move(root)) {}
  // Creates the folder layout (mode 0700: it holds secrets).
  Status prepare() const;

  const std::filesystem::path& root() const { return m_root; }
  std::filesystem::path config_file() const { return m_root / "config.toml"; }
  std::filesystem::path state_db() const { return m_root / "state.sqlite"; }
  std::filesystem::path token_file() const { return m_root / "api.token"; }
  std::filesystem::path daemon_file() const { return m_root / "daemon.json"; }
  std::filesystem::path staging_dir() const { return m_root / "staging"; }
  std::filesystem::path quarantine_dir() const { return m_root / "quarantine"; }
  std::filesystem::path reports_dir() const { return m_root / "reports"; }
  std::filesystem::path user_key_file() const { return m_root / "keys" / "user.key"; }
  // This node's device key (contact channels, LAN beacons), certified by the user key.
  std::filesystem::path device_key_file() const { return m_root / "keys" / "device.key"; }
  // Files uploaded through the web UI to be shared (uploads/<id>/...); they are the shared data.
  std::filesystem::path uploads_dir() const { return m_root / "uploads"; }
  std::filesystem::path log_file() const { return m_root / "kith.log"; }

  // Reads the API token, creating a random one (mode 0600) on first use.
  Result<std::string> api_token() const;

 private:
  std::filesystem::path m_root;
};

// Holds the home's lock file for the life of the object; only one node runs per home.
class HomeLock {
 public:
  static Result<HomeLock> acquire(const Home& home);
  HomeLock(HomeLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  HomeLock& operator=(HomeLock&&) = delete;
  ~HomeLock();

 private:
  explicit HomeLock(int fd) : m_fd(fd) {}
  int m_fd;
};

struct DaemonInfo {
  int pid = 0;
  std::string api_host;
  std::uint16_t api_port = 0;
  std::uint16_t bt_port = 0;
};

Status write_daemon_info(const Home& home, const DaemonInfo& info);
// The running daemon for this home, if daemon.json exists and its process is alive.
std::optional<DaemonInfo> read_daemon_info(const Home& home);

}  // namespace kith::app
