#pragma once
// Reads one wanted file of a transfer while it downloads, handing out only verified bytes: a read waits
// until every piece holding the requested bytes is verified and written (PieceGate), asks libtorrent to
// fetch those pieces first (set_piece_deadline), then reads the staged file itself (pread of
// save_path/file_path). Made by SessionHost::open_reader(). What a virus scan of a download in progress
// reads through (safety::ByteSource in the release pipeline).
//
// Only the file's own byte range is ever read, from the file itself: libtorrent's `.parts` file (bytes of
// pieces shared with unwanted files) is never touched, and open_reader() refuses unwanted and pad files.
//
// Threading: read() from one thread at a time per reader; cancel() from any thread. Several readers
// (several files of a torrent scanned at once) may be open on one transfer.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/error.hpp"

namespace kith::swarm {

struct ReaderOptions {
  // When a read has to wait, the missing pieces in the next this many bytes of the file get a deadline
  // too (later ones later), and the window is topped up while the reader keeps waiting: a scanner that
  // keeps up with the download then finds its next bytes there or on their way, and libtorrent's
  // time-critical queue does not keep emptying and refilling (it cancels its other requests each time
  // that queue goes from empty to non-empty). 0: only the pieces a read waits for.
  std::uint64_t readahead_bytes = 8 << 20;
  // Deadline for the pieces a read waits for; read-ahead piece k gets first_deadline_ms + k * step_ms.
  int first_deadline_ms = 0;
  int step_ms = 20;
};

class FileReader {
 public:
  struct Impl;
  explicit FileReader(std::unique_ptr<Impl> impl);
  // Clears the deadlines this reader set on pieces that have not arrived (libtorrent then downloads
  // them at low priority instead of first), and closes the file.
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  int file_index() const;
  std::uint64_t size() const;
  const std::string& path() const;  // the staged file: save_path / file path

  // Reads min(count, size() - offset) bytes at `offset` (0 at or past the end). Blocks until the pieces
  // holding them are verified, or fails: swarm::errc::timed_out (not there by `deadline`),
  // swarm::errc::cancelled (cancel(), or the transfer was paused, stopped by an error, removed, or the
  // session shut down), base::errc::io_error (the staged file could not be read).
  Result<std::size_t> read(void* buf, std::size_t count, std::uint64_t offset,
                           std::chrono::steady_clock::time_point deadline);
  // A waiting read() fails with errc::cancelled, and so does every later one.
  void cancel();

  // Pieces this reader asked libtorrent to fetch first (set_piece_deadline calls), for tests and stats.
  int deadlines_set() const;

 private:
  std::unique_ptr<Impl> m;
};

}  // namespace kith::swarm
