#include "base/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

namespace kith::base {
namespace {

Error io_error(const std::string& what, const std::filesystem::path& path, int err) {
  return Error{make_error_code(errc::io_error), what + " " + path.string() + ": " + std::strerror(err)};
}

}  // namespace

Status atomic_write_file(const std::filesystem::path& path, std::string_view data, int mode) {
  std::random_device rd;
  auto tmp = path;
  tmp += ".tmp" + std::to_string(rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return tl::unexpected(io_error("cannot create", tmp, errno));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return tl::unexpected(io_error("cannot write", tmp, err));
    }
    done += static_cast<std::size_t>(n);
  }
  // fchmod because the umask may have narrowed `mode` in open().
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return tl::unexpected(io_error("cannot sync", tmp, err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return tl::unexpected(io_error("cannot rename into", path, err));
  }
  auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    auto code = ec == std::errc::no_such_file_or_directory ? errc::not_found : errc::io_error;
    return fail(make_error_code(code), "cannot read " + path.string() + ": " + ec.message());
  }
  if (size > max_bytes) {
    return fail(make_error_code(errc::bad_input),
                path.string() + " is too large (" + std::to_string(size) + " bytes)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(make_error_code(errc::io_error), "cannot open " + path.string());
  std::string out(size, '\0');
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

Status ensure_dir(const std::filesystem::path& dir, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(make_error_code(errc::io_error), "cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), static_cast<mode_t>(mode));
  return {};
}

}  // namespace kith::base
