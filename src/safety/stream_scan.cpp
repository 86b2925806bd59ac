// Scanner::scan_source(): scanning a file while its bytes are still arriving.
//
// libclamav reads the file through a "handle map" (cl_fmap_open_handle): every read it needs goes to
// read_bytes() below, which asks the ByteSource and so waits for the bytes to be there (for a download,
// for the pieces to be verified). libclamav sees one ordinary file; the scan is the same as scan()'s
// (same engine, options and limits) and reads the file's bytes in its usual order, e.g. a zip's central
// directory at the end first.
//
// What makes a result a verdict: every byte libclamav asked for was the file's real byte. A failed read
// cannot be allowed to look like a short or odd file (libclamav's parsers often skip what they cannot
// read and go on), so the first failed read marks the stream aborted, every later read fails at once,
// and whatever libclamav answers then is thrown away: aborted is not a verdict.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "safety/clamav_glue.hpp"

namespace kith::safety {
namespace {

using Clock = std::chrono::steady_clock;

// One stream scan, as read_bytes() sees it. Only libclamav's scanning thread touches it during the scan
// (libclamav calls the read callback of one map one call at a time).
struct Stream {
  const ByteSource* source = nullptr;
  Clock::time_point deadline;
  bool aborted = false;  // sticky: after one failed read every read fails
  std::string why;
  std::string head;  // bytes 0..3, captured from the read at offset 0
  Clock::duration waited{};

  void abort(std::string reason) {
    if (aborted) return;
    aborted = true;
    why = std::move(reason);
  }
};

// libclamav 1.4's cl_fmap_open_handle() marks every handle map as a file descriptor (handle_is_fd): for a
// page read with a lock it fstat()s the handle as an fd and compares its st_mtime with the map's (0), and
// fails the read when either differs. With a handle that is not an fd, those reads fail and parsers skip
// what they could not read: in a trial, a stored zip holding EICAR scanned clean that way. So each
// stream's handle is a real fd, an empty memfd whose mtime is set to 0, which passes that check; the read
// callback finds its Stream by that fd here. (The same fd is what libclamav hands to its own callbacks
// and to its zlib fallback for .gz when inflateInit2 fails; that fallback would read the empty memfd.)
class Registry {
 public:
  void add(int fd, Stream* s) {
    std::lock_guard lock(m_mutex);
    m_streams[fd] = s;
  }
  void remove(int fd) {
    std::lock_guard lock(m_mutex);
    m_streams.erase(fd);
  }
  Stream* find(int fd) const {
    std::lock_guard lock(m_mutex);
    auto it = m_streams.find(fd);
    return it == m_streams.end() ? nullptr : it->second;
  }

 private:
  mutable std::mutex m_mutex;
  std::unordered_map<int, Stream*> m_streams;
};

Registry& registry() {
  static Registry r;
  return r;
}

// libclamav's clcb_pread: `count` bytes at `offset` into `buf`; the bytes read, or -1 with errno.
off_t read_bytes(void* handle, void* buf, size_t count, off_t offset) {
  Stream* s = registry().find(static_cast<int>(reinterpret_cast<intptr_t>(handle)));
  if (!s) {
    errno = EBADF;
    return -1;
  }
  if (s->aborted) {
    errno = ECANCELED;  // not EINTR: libclamav retries on that
    return -1;
  }
  const auto size = s->source->size;
  if (offset < 0 || static_cast<std::uint64_t>(offset) >= size || count == 0) {
    s->abort("libclamav read outside the file (offset " + std::to_string(offset) + ")");
    errno = EINVAL;
    return -1;
  }
  const auto t0 = Clock::now();
  Result<std::size_t> got = fail(make_error_code(base::errc::internal), "no read");
  try {
    got = s->source->read(buf, count, static_cast<std::uint64_t>(offset), s->deadline);
  } catch (const std::exception& e) {
    got = fail(make_error_code(base::errc::internal), std::string("the byte source threw: ") + e.what());
  }
  s->waited += Clock::now() - t0;
  if (!got || *got == 0 || *got > count) {
    s->abort(!got ? got.error().message
                  : "the byte source returned " + std::to_string(got ? *got : 0) + " bytes for " +
                        std::to_string(count) + " at offset " + std::to_string(offset));
    errno = ECANCELED;
    return -1;
  }
  if (offset == 0) s->head.assign(static_cast<const char*>(buf), std::min<std::size_t>(*got, 4));
  return static_cast<off_t>(*got);
}

// Reads [0, n) of a small file through the source (libclamav reads nothing of it).
Status read_all(const ByteSource& source, std::uint64_t n, Clock::time_point deadline, std::string& out) {
  out.assign(n, '\0');
  std::uint64_t at = 0;
  while (at < n) {
    auto got = source.read(out.data() + at, n - at, at, deadline);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0 || *got > n - at)
      return fail(make_error_code(base::errc::internal), "the byte source returned a wrong count");
    at += *got;
  }
  return {};
}

bool is_time_limit(const std::string& name) {
  return name.rfind("Heuristics.Limits.Exceeded.MaxScanTime", 0) == 0;
}

// An fd for the handle map: see Registry.
Result<int> placeholder_fd() {
  int fd = memfd_create("kith-stream-scan", MFD_CLOEXEC);
  if (fd < 0)
    return fail(make_error_code(base::errc::io_error), std::string("memfd_create: ") + strerror(errno));
  const timespec epoch[2] = {{0, 0}, {0, 0}};
  struct stat st {};
  if (futimens(fd, epoch) != 0 || fstat(fd, &st) != 0 || st.st_mtime != 0) {
    ::close(fd);
    return fail(make_error_code(base::errc::io_error), "cannot set up the scan handle (mtime 0)");
  }
  return fd;
}

}  // namespace

FileScan Scanner::scan_source(const ByteSource& source) const {
  FileScan out;
  out.bytes = source.size;
  const auto start = Clock::now();
  Stream stream;
  stream.source = &source;
  stream.deadline = m_max_scan.count() > 0 ? start + m_stream_wait : Clock::time_point::max();
  auto finish = [&] {
    if (stream.aborted) {
      out.ok = false;
      out.aborted = true;
      out.error = stream.why;
      out.names.clear();  // whatever libclamav saw of a partial read is not a finding
    }
    out.waited = std::chrono::duration_cast<std::chrono::milliseconds>(stream.waited);
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return out;
  };
  if (!source.read) {
    stream.abort("the byte source has no reader");
    return finish();
  }

  if (source.size <= detail::UNSCANNED_SIZE) {
    // libclamav calls such a file clean without reading it (as scan() does); its bytes are still read,
    // and so waited for, because the runnable check looks at them.
    std::string bytes;
    if (auto r = read_all(source, source.size, stream.deadline, bytes); !r) {
      stream.abort(r.error().message);
      return finish();
    }
    out.head = bytes.substr(0, 4);
    out.ok = true;
    return finish();
  }

  auto fd = placeholder_fd();
  if (!fd) {
    stream.abort(fd.error().message);
    return finish();
  }
  registry().add(*fd, &stream);
  cl_fmap_t* map = cl_fmap_open_handle(reinterpret_cast<void*>(static_cast<intptr_t>(*fd)), 0,
                                       static_cast<size_t>(source.size), read_bytes, 1);
  if (!map) {
    stream.abort("libclamav could not map the stream (out of memory?)");
  } else {
    cl_scan_options opts = detail::scan_options();
    const char* name = nullptr;
    unsigned long scanned = 0;
    // No file name: libclamav would take a readable path as the file itself (its RAR scanner opens it),
    // and that file is still being written.
    detail::ScanContext context{&out, &stream.aborted};
    auto rc = cl_scanmap_callback(map, nullptr, &name, &scanned, m_engine, &opts, &context);
    cl_fmap_close(map);
    // libclamav's clock includes the time spent waiting for bytes, so its time limit says nothing
    // about the file: never let it become a "not fully scanned" verdict. The complete file is
    // scanned again, where the limit applies to the scan alone.
    const bool timed_out =
        rc == CL_ETIMEOUT || std::any_of(out.names.begin(), out.names.end(), is_time_limit);
    if (timed_out) {
      stream.abort("libclamav's scan time limit was reached while bytes were still arriving");
    } else {
      detail::take_result(rc, name, out);
      out.head = stream.head;
      // libclamav always reads the start (file type detection); should it not have, ask for it.
      if (out.head.empty() && !stream.aborted) {
        if (auto r = read_all(source, 4, stream.deadline, out.head); !r) stream.abort(r.error().message);
      }
    }
  }
  registry().remove(*fd);
  ::close(*fd);
  return finish();
}

}  // namespace kith::safety
