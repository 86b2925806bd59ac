#pragma once
// The node's home folder and the small files in it that other processes read.
//
//   HOME/config.toml     settings (see settings.hpp)
//   HOME/state.sqlite    transfers, resume data, session state
//   HOME/api.token       bearer token for the local API (mode 0600)
//   HOME/daemon.json     {"pid", "api", "bt_port"} while a daemon runs (how the CLI finds it)
//   HOME/lock            flock()ed by the one process that runs a node for this home; holds
//                        {"pid", "role"} of that process while it is held
//   HOME/daemon.starting flock()ed by a daemon from before it takes HOME/lock until its API
//                        listens (how a command sees a daemon that is starting); holds its pid
//   HOME/staging/<id>/   downloads until they are complete, verified, scanned and released
//   HOME/quarantine/<id>/ downloads the safety check held back (see safety/)
//   HOME/reports/        JSON reports for administrators (`kith report`)
//   HOME/keys/user.key   the person's Ed25519 key (mode 0600; signs shared links)
//   HOME/uploads/<id>/   files a browser uploaded to share (the web UI's drag and drop)
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>

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
  std::filesystem::path lock_file() const { return m_root / "lock"; }
  std::filesystem::path starting_file() const { return m_root / "daemon.starting"; }
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
  // Takes the lock without waiting and writes {"pid", "role"} into it, for whoever finds it held.
  // role: "daemon" or "command". app.home_locked if another process holds it.
  static Result<HomeLock> acquire(const Home& home, const std::string& role = "command");
  HomeLock(HomeLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  HomeLock& operator=(HomeLock&&) = delete;
  ~HomeLock();  // empties the file, then lets go

 private:
  explicit HomeLock(int fd) : m_fd(fd) {}
  int m_fd;
};

// The process that holds HOME/lock, as it wrote itself there; nullopt when the file names nobody
// (free, or taken a moment ago and not written yet). Read only after an acquire failed.
struct LockHolder {
  int pid = 0;
  std::string role;     // "daemon" | "command"
  std::string command;  // its command line from /proc, printable, for messages ("" if unknown)
};
std::optional<LockHolder> lock_holder(const Home& home);

// A daemon that is starting holds this from before it takes HOME/lock until its API listens, so
// that commands wait for it instead of taking the home for a transient node. The kernel lets go
// when the process ends, so a daemon that dies starting leaves nothing stale behind.
class StartingMark {
 public:
  // Fails (app.home_locked) if another daemon is starting for this home.
  static Result<StartingMark> hold(const Home& home);
  StartingMark(StartingMark&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  StartingMark& operator=(StartingMark&&) = delete;
  ~StartingMark();
  void release();

 private:
  explicit StartingMark(int fd) : m_fd(fd) {}
  int m_fd;
};

// The pid of a daemon that is starting for this home, if one is (it holds HOME/daemon.starting).
std::optional<int> starting_daemon(const Home& home);

struct DaemonInfo {
  int pid = 0;
  std::string api_host;
  std::uint16_t api_port = 0;
  std::uint16_t bt_port = 0;
};

Status write_daemon_info(const Home& home, const DaemonInfo& info);
// The running daemon for this home, if daemon.json exists and its process is alive.
std::optional<DaemonInfo> read_daemon_info(const Home& home);

// What a command runs against: the home's daemon, or the home's lock for a node of its own
// (transient mode). A daemon that is starting (StartingMark) or stopping (holds the lock without
// daemon.json) is waited for, up to `wait`; `on_wait(pid)` is called once if that lasts over 2 s. A
// home held by another command is app.home_locked naming that process, as before.
using DaemonOrLock = std::variant<DaemonInfo, HomeLock>;
Result<DaemonOrLock> find_daemon_or_lock(const Home& home, std::chrono::milliseconds wait,
                                         const std::function<void(int pid)>& on_wait = {});

}  // namespace kith::app
