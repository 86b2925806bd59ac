#include "app/home.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "app/errors.hpp"
#include "base/endpoint.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"

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

namespace {

// Replaces the content of a file we hold a lock on (one short write; readers may see it empty).
void write_holder(int fd, const std::string& text) {
  if (::ftruncate(fd, 0) != 0) return;
  if (::pwrite(fd, text.data(), text.size(), 0) < 0) return;  // only a message would lack the pid
}

std::string read_small(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// What a kith process is doing, from its command line in /proc: "kith share /srv/x", leaving out
// the global options (--home, --set) that say nothing about what it does, control characters
// escaped, cut at 200 bytes. For messages that say who holds the home.
std::string command_line(int pid) {
  const auto raw = read_small("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  for (std::size_t start = 0; start < raw.size();) {
    auto end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    args.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = i == 0 ? std::filesystem::path(args[0]).filename().string() : args[i];
    if (arg == "--home" || arg == "--set") {
      ++i;  // and its value
      continue;
    }
    if (arg.rfind("--home=", 0) == 0 || arg.rfind("--set=", 0) == 0) continue;
    if (!out.empty()) out += ' ';
    for (unsigned char c : arg) {
      if (c < 0x20 || c == 0x7f)
        out += "\\x" + base::to_hex(std::string(1, static_cast<char>(c)));
      else
        out += static_cast<char>(c);
    }
    if (out.size() > 200) {
      out.resize(200);
      // not in the middle of a UTF-8 sequence
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
      if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
      out += "…";
      break;
    }
  }
  return out;
}

bool alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

}  // namespace

Result<HomeLock> HomeLock::acquire(const Home& home, const std::string& role) {
  auto path = home.lock_file();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(make_error_code(errc::home_locked), "cannot open " + path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    std::string who = "another kith process";
    if (auto holder = lock_holder(home)) {
      who = "kith process " + std::to_string(holder->pid);
      if (!holder->command.empty()) who += " (" + holder->command + ")";
    }
    return fail(make_error_code(errc::home_locked),
                who + " is using " + home.root().string() + "; stop it, or pass a different --home");
  }
  write_holder(fd, nlohmann::json{{"pid", ::getpid()}, {"role", role}}.dump() + "\n");
  return HomeLock(fd);
}

HomeLock::~HomeLock() {
  if (m_fd < 0) return;
  write_holder(m_fd, "");  // names nobody once it is free
  ::close(m_fd);           // closing releases the flock
}

std::optional<LockHolder> lock_holder(const Home& home) {
  auto j = nlohmann::json::parse(read_small(home.lock_file()), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  LockHolder h;
  h.pid = j.value("pid", 0);
  h.role = j.value("role", std::string());
  if (!alive(h.pid)) return std::nullopt;
  h.command = command_line(h.pid);
  return h;
}

Result<StartingMark> StartingMark::hold(const Home& home) {
  auto path = home.starting_file();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(make_error_code(errc::home_locked), "cannot open " + path.string());
  // A command looking whether a daemon starts holds a shared lock for an instant: try for a while.
  for (int i = 0; ::flock(fd, LOCK_EX | LOCK_NB) != 0; ++i) {
    if (i == 200) {
      ::close(fd);
      auto other = starting_daemon(home);
      return fail(make_error_code(errc::home_locked),
                  "another kith daemon" +
                      (other && *other > 0 ? " (pid " + std::to_string(*other) + ")" : std::string()) +
                      " is starting for " + home.root().string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  write_holder(fd, std::to_string(::getpid()) + "\n");
  return StartingMark(fd);
}

StartingMark::~StartingMark() { release(); }

void StartingMark::release() {
  if (m_fd < 0) return;
  write_holder(m_fd, "");
  ::close(m_fd);
  m_fd = -1;
}

std::optional<int> starting_daemon(const Home& home) {
  int fd = ::open(home.starting_file().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // no daemon ever started here
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);  // (lets go of the shared lock at once if it got it)
  if (!held) return std::nullopt;
  int pid = 0;
  try {
    pid = std::stoi(read_small(home.starting_file()));
  } catch (const std::exception&) {
    pid = 0;  // not written yet
  }
  return pid;
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

Result<DaemonOrLock> find_daemon_or_lock(const Home& home, std::chrono::milliseconds wait,
                                         const std::function<void(int pid)>& on_wait) {
  const auto start = std::chrono::steady_clock::now();
  bool told = false;
  std::optional<std::chrono::steady_clock::time_point> nobody_since;
  int daemon_pid = 0;
  for (;;) {
    if (auto info = read_daemon_info(home)) return DaemonOrLock{std::move(*info)};
    auto starting = starting_daemon(home);
    if (!starting) {
      auto lock = HomeLock::acquire(home, "command");
      if (lock) {
        // A daemon announces itself (StartingMark) before it tries HOME/lock. None announced now
        // means one that announces later finds this lock taken and waits for this command.
        starting = starting_daemon(home);
        if (!starting) return DaemonOrLock{std::move(*lock)};
        // One just announced itself: let it have the home, and wait for its API.
      } else {
        auto holder = lock_holder(home);
        if (holder && holder->role != "daemon") return tl::unexpected(lock.error());  // a command
        if (!holder) {
          // Taken a moment ago and not written yet, or by a kith that does not write it.
          if (!nobody_since) nobody_since = std::chrono::steady_clock::now();
          if (std::chrono::steady_clock::now() - *nobody_since > std::chrono::seconds(1))
            return tl::unexpected(lock.error());
        } else {
          daemon_pid = holder->pid;  // a daemon that is stopping: wait until it has let go
        }
      }
    }
    if (starting && *starting > 0) daemon_pid = *starting;
    if (std::chrono::steady_clock::now() - start > wait) {
      return fail(base::make_error_code(base::errc::unavailable),
                  "the kith daemon" +
                      (daemon_pid ? " (pid " + std::to_string(daemon_pid) + ")" : std::string()) + " for " +
                      home.root().string() + " did not come up within " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) +
                      " s; see its log");
    }
    // Said once, and only if it lasts: the race with a daemon that starts is usually over in ms.
    const bool for_daemon = starting.has_value() || daemon_pid != 0;
    if (!told && for_daemon && on_wait &&
        std::chrono::steady_clock::now() - start > std::chrono::seconds(2)) {
      on_wait(daemon_pid);
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace kith::app
