#include "swarm/file_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "swarm/detail/piece_gates.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/session_host.hpp"

namespace kith::swarm {

struct FileReader::Impl {
  lt::torrent_handle handle;
  std::shared_ptr<PieceGate> gate;
  ReaderOptions options;
  int file = 0;
  std::uint64_t size = 0;
  std::shared_ptr<const lt::torrent_info> torrent;  // its file storage maps file bytes to pieces
  int last_piece = 0;                               // the file's last piece
  int readahead_pieces = 0;
  std::string path;
  std::atomic<bool> cancelled{false};
  std::atomic<int> deadlines_set{0};

  std::mutex mutex;       // guards fd and deadlines
  int fd = -1;            // opened at the first read (the file exists once a piece of it is written)
  std::set<int> pending;  // pieces given a deadline that had not arrived when last looked at

  // The piece holding byte `offset` of the file (v1 pieces may span files; v2 and hybrid torrents align
  // files to pieces with pad files: map_file knows both).
  int piece_of(std::uint64_t offset) const {
    return static_cast<int>(
        torrent->files().map_file(lt::file_index_t{file}, static_cast<std::int64_t>(offset), 1).piece);
  }

  void set_deadline(int piece, int ms) {
    if (!pending.insert(piece).second) return;
    handle.set_piece_deadline(lt::piece_index_t{piece}, ms);
    ++deadlines_set;
  }

  Status wait_written(int first, int last, std::chrono::steady_clock::time_point deadline);

  // Deadlines for the missing pieces of [first, last] and, while this reader is the one waiting, for the
  // next read-ahead pieces of the file. Under mutex.
  void ask_first(int first, int last) {
    for (auto it = pending.begin(); it != pending.end();)
      it = gate->has(*it) ? pending.erase(it) : std::next(it);
    const auto missing = gate->missing(first, last);
    // Nothing to wait for and no deadline of ours still out: the download is ahead of this reader, and
    // libtorrent's own order serves it best.
    if (missing.empty() && pending.empty()) return;
    for (int p : missing) set_deadline(p, options.first_deadline_ms);
    if (static_cast<int>(pending.size()) > readahead_pieces / 2) return;
    int k = 1;
    for (int p : gate->missing(last + 1, std::min(last + readahead_pieces, last_piece)))
      set_deadline(p, options.first_deadline_ms + k++ * options.step_ms);
  }
};

// Verified pieces whose last blocks are still queued for writing (see piece_gate.hpp) are written within
// milliseconds, and libtorrent posts nothing when that happens. A fresh picture of the transfer
// (PieceGates::picture: passed pieces minus the download queue) marks every piece that is written by
// then, for all readers at once, with two calls into libtorrent, however many pieces it confirms: a
// reader that is behind the download confirms a whole stretch with one picture.
Status FileReader::Impl::wait_written(int first, int last, std::chrono::steady_clock::time_point deadline) {
  for (int p = first; p <= last; ++p) {
    auto pause = std::chrono::microseconds(200);
    while (!gate->written(p)) {
      // Closed, cancelled or suspended: say so (this returns at once for a verified piece otherwise).
      if (auto w = gate->wait(p, p, deadline, &cancelled); !w) return w;
      detail::PieceGates::picture(*gate, handle);
      if (gate->written(p)) break;
      if (std::chrono::steady_clock::now() + pause > deadline) {
        return fail(make_error_code(errc::timed_out),
                    "piece " + std::to_string(p) + " was not written in time");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(8000));
    }
  }
  return {};
}

FileReader::FileReader(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}

FileReader::~FileReader() {
  std::lock_guard lock(m->mutex);
  for (int p : m->pending) {
    if (m->gate->has(p)) continue;
    try {
      m->handle.reset_piece_deadline(lt::piece_index_t{p});
    } catch (const std::exception&) {
      break;  // the transfer is gone
    }
  }
  if (m->fd >= 0) ::close(m->fd);
}

int FileReader::file_index() const { return m->file; }
std::uint64_t FileReader::size() const { return m->size; }
const std::string& FileReader::path() const { return m->path; }
int FileReader::deadlines_set() const { return m->deadlines_set; }

void FileReader::cancel() {
  m->cancelled = true;
  m->gate->wake();
}

Result<std::size_t> FileReader::read(void* buf, std::size_t count, std::uint64_t offset,
                                     std::chrono::steady_clock::time_point deadline) {
  if (m->cancelled) return fail(make_error_code(errc::cancelled), "the read was cancelled");
  if (offset >= m->size || count == 0) return std::size_t{0};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(count, m->size - offset));
  const int first = m->piece_of(offset), last = m->piece_of(offset + n - 1);
  {
    std::lock_guard lock(m->mutex);
    try {
      m->ask_first(first, last);
    } catch (const std::exception&) {
      // The handle went invalid (removed): the gate is closed too, and the wait below says so.
    }
  }
  if (auto w = m->gate->wait(first, last, deadline, &m->cancelled); !w) return tl::unexpected(w.error());
  if (auto w = m->wait_written(first, last, deadline); !w) return tl::unexpected(w.error());

  std::lock_guard lock(m->mutex);
  if (m->fd < 0) {
    m->fd = ::open(m->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (m->fd < 0) {
      return fail(base::make_error_code(base::errc::io_error),
                  "cannot open " + m->path + ": " + std::strerror(errno));
    }
  }
  std::size_t done = 0;
  while (done < n) {
    auto r = ::pread(m->fd, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return fail(base::make_error_code(base::errc::io_error),
                  "cannot read " + m->path + ": " + std::strerror(errno));
    }
    if (r == 0) {  // verified bytes must be there: never make up the rest
      return fail(base::make_error_code(base::errc::io_error),
                  m->path + " is shorter than its verified pieces say");
    }
    done += static_cast<std::size_t>(r);
  }
  return n;
}

Result<std::unique_ptr<FileReader>> SessionHost::open_reader(const std::string& id, int file_index,
                                                             const ReaderOptions& options) const {
  auto full = resolve(id);
  if (!full) return tl::unexpected(full.error());
  auto h = handle(*full);
  if (!h) return tl::unexpected(h.error());
  auto gate = m_gates->find(*full);
  auto ti = h->torrent_file();
  if (!ti || !gate) {
    return fail(make_error_code(errc::session_error), "the file list of " + *full + " is not known yet");
  }
  const auto& fs = ti->files();
  const lt::file_index_t index{file_index};
  if (file_index < 0 || file_index >= fs.num_files() || fs.pad_file_at(index)) {
    return fail(base::errc::bad_input,
                "file index " + std::to_string(file_index) + " is not a file of this transfer");
  }
  // Wanted by kith's own selection (set synchronously) and by libtorrent's priority, which it updates only
  // after moving the file's bytes out of the `.parts` file when a file becomes wanted: before that, the
  // file on disk lacks bytes of pieces it shares with neighbours, though those pieces are verified.
  bool selected = true;
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_wanted.find(*full); it != m_wanted.end())
      selected = std::find(it->second.begin(), it->second.end(), file_index) != it->second.end();
  }
  if (!selected || h->file_priority(index) == lt::dont_download) {
    return fail(base::errc::bad_input, "file " + std::to_string(file_index) +
                                           " is not (yet) wanted: its bytes are not all in its own file");
  }
  auto impl = std::make_unique<FileReader::Impl>();
  impl->handle = *h;
  impl->gate = std::move(gate);
  impl->options = options;
  impl->file = file_index;
  impl->size = static_cast<std::uint64_t>(fs.file_size(index));
  impl->torrent = ti;
  const auto piece_length = static_cast<std::uint64_t>(fs.piece_length());
  impl->readahead_pieces = static_cast<int>(
      std::min<std::uint64_t>((options.readahead_bytes + piece_length - 1) / piece_length, 1 << 16));
  impl->last_piece = impl->size == 0 ? 0 : impl->piece_of(impl->size - 1);
  impl->path = fs.file_path(index, h->status(lt::torrent_handle::query_save_path).save_path);
  return std::make_unique<FileReader>(std::move(impl));
}

}  // namespace kith::swarm
