#include "sync/watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <cerrno>
#include <cstring>

#include "sync/names.hpp"

namespace kith::sync {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {
constexpr std::uint32_t MASK = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                               IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW |
                               IN_ONLYDIR;

// A pull's own temporary files and the folder marker are not changes worth a scan.
bool ignorable(std::string_view base) { return is_temp_name(base) || base == FOLDER_MARKER; }
}  // namespace

Watcher::Watcher(base::Strand strand, fs::path root, std::function<void()> changed)
    : m_strand(strand), m_root(std::move(root)), m_changed(std::move(changed)), m_timer(strand) {}

Watcher::~Watcher() {
  if (m_stream) {
    boost::system::error_code ignored;
    m_stream->close(ignored);  // closes m_fd
  } else if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Status Watcher::open() {
  m_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (m_fd < 0)
    return fail(base::make_error_code(base::errc::io_error), std::string("inotify: ") + std::strerror(errno));
  m_stream = std::make_unique<asio::posix::stream_descriptor>(m_strand, m_fd);
  return {};
}

void Watcher::add_watches() {
  watch_tree(m_root);
  asio::post(m_strand, [self = shared_from_this()] { self->begin(); });
}

void Watcher::begin() {
  if (!m_stopped) read();
}

void Watcher::stop() {
  asio::post(m_strand, [self = shared_from_this()] {
    self->m_stopped = true;
    self->m_timer.cancel();
    boost::system::error_code ignored;
    if (self->m_stream) self->m_stream->cancel(ignored);
  });
}

void Watcher::watch_tree(const fs::path& dir) {
  const int wd = ::inotify_add_watch(m_fd, dir.c_str(), MASK);
  if (wd < 0) {
    if (!m_warned && (errno == ENOSPC || errno == ENOMEM)) {
      m_warned = true;
      spdlog::warn(
          "sync: cannot watch every directory of {} (raise fs.inotify.max_user_watches); changes "
          "there are found by the periodic rescans",
          m_root.string());
    }
    return;
  }
  m_dirs[wd] = dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const auto base = it->path().filename().string();
    if (base == ".stversions" || ignorable(base)) continue;
    if (it->is_directory(ec) && !it->is_symlink(ec)) watch_tree(it->path());
  }
}

void Watcher::read() {
  if (m_stopped) return;
  m_stream->async_read_some(
      asio::buffer(m_buffer),
      asio::bind_executor(m_strand, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
        if (ec || self->m_stopped) return;
        self->handle(self->m_buffer.data(), n);
        self->read();
      }));
}

void Watcher::handle(const char* data, std::size_t size) {
  for (std::size_t at = 0; at + sizeof(inotify_event) <= size;) {
    inotify_event ev;
    std::memcpy(&ev, data + at, sizeof ev);
    const std::string name = ev.len ? std::string(data + at + sizeof ev) : std::string();
    at += sizeof ev + ev.len;
    if (ev.mask & IN_Q_OVERFLOW) {
      poke();
      continue;
    }
    if (ev.mask & IN_IGNORED) {
      m_dirs.erase(ev.wd);
      continue;
    }
    if (!name.empty() && ignorable(name)) continue;
    auto dir = m_dirs.find(ev.wd);
    if (dir != m_dirs.end() && (ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO)) && !name.empty())
      watch_tree(dir->second / name);
    poke();
  }
}

void Watcher::poke() {
  if (m_pending) return;  // one scan per burst, DEBOUNCE after its first event
  m_pending = true;
  m_timer.expires_after(DEBOUNCE);
  m_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->m_pending = false;
    if (!ec && !self->m_stopped) self->m_changed();
  });
}

}  // namespace kith::sync
