#pragma once
// Watches a sync folder with inotify, so that a change is scanned within a fraction of a second
// instead of at the next full rescan (Syncthing's watcher waits 10 s by default; kith waits DEBOUNCE).
// Every directory of the tree gets a watch (symlinks are not followed); directories created later get
// theirs as they appear. Changes to temporary and internal names (a pull's own .syncthing.*.tmp
// files, .stfolder) are not changes. When watches run out (fs.inotify.max_user_watches) or the kernel
// drops events, it says so and calls `changed` anyway: the periodic rescans still cover the folder.
//
// Threading: runs on the strand it is given; `changed` is called there.
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/async.hpp"
#include "base/error.hpp"

namespace kith::sync {

class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  static constexpr std::chrono::milliseconds DEBOUNCE{200};

  Watcher(base::Strand strand, std::filesystem::path root, std::function<void()> changed);
  ~Watcher();
  // On the strand: the inotify descriptor. Then, on a worker (blocking: walks the tree's directories),
  // add_watches(), which hands over to the strand to start reading events. Nothing is read, and
  // m_dirs is not touched on the strand, before that hand-over.
  Status open();
  void add_watches();
  void stop();

 private:
  void watch_tree(const std::filesystem::path& dir);
  void begin();
  void read();
  void handle(const char* data, std::size_t size);
  void poke();

  base::Strand m_strand;
  std::filesystem::path m_root;
  std::function<void()> m_changed;
  int m_fd = -1;
  std::unique_ptr<boost::asio::posix::stream_descriptor> m_stream;
  boost::asio::steady_timer m_timer;
  std::map<int, std::filesystem::path> m_dirs;  // watch descriptor -> directory
  std::array<char, 64 * 1024> m_buffer{};
  bool m_pending = false;
  bool m_warned = false;
  bool m_stopped = false;
};

}  // namespace kith::sync
