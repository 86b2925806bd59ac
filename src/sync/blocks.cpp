#include "sync/blocks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "crypto/hash.hpp"
#include "sync/errors.hpp"

namespace kith::sync {
namespace {

Error errno_error(int err, const std::string& what) {
  return Error{std::error_code(err, std::generic_category()), what + ": " + std::strerror(err)};
}

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

bool same_content_stat(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Reads up to `count` bytes at `offset`, retrying short reads; fewer only at the end of the file.
Result<std::size_t> read_at(int fd, char* buf, std::size_t count, std::int64_t offset,
                            const std::string& what) {
  std::size_t done = 0;
  while (done < count) {
    ssize_t n =
        ::pread(fd, buf + done, count - done, static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(errno_error(errno, "cannot read " + what));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace

std::int32_t block_size_for(std::int64_t file_size) {
  std::int32_t size = MIN_BLOCK_SIZE;
  while (size < MAX_BLOCK_SIZE && file_size >= DESIRED_BLOCKS_PER_FILE * size) size *= 2;
  return size;
}

std::int32_t block_size_for(std::int64_t file_size, std::int32_t previous) {
  const std::int32_t size = block_size_for(file_size);
  if (previous <= 0) return size;
  // FileInfo.BlockSize(): an index entry's block size is at least the minimum.
  const std::int32_t old = std::max(previous, MIN_BLOCK_SIZE);
  if (size > old && size / old <= 2) return old;
  if (old > size && old / size <= 2) return old;
  return size;
}

Result<std::vector<store::SyncBlock>> hash_file(const std::filesystem::path& path, std::int32_t block_size,
                                                const std::atomic<bool>* cancel,
                                                const std::function<void(std::uint64_t)>& progress) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return tl::unexpected(errno_error(errno, "cannot open " + path.string()));
  auto blocks = hash_fd(fd, path.string(), block_size, cancel, progress);
  ::close(fd);
  return blocks;
}

Result<std::vector<store::SyncBlock>> hash_fd(int fd, const std::string& what, std::int32_t block_size,
                                              const std::atomic<bool>* cancel,
                                              const std::function<void(std::uint64_t)>& progress) {
  if (block_size <= 0)
    return fail(base::make_error_code(base::errc::invalid_argument), "block size must be positive");
  struct stat before {};
  if (::fstat(fd, &before) != 0) return tl::unexpected(errno_error(errno, "cannot stat " + what));
  if (!S_ISREG(before.st_mode))
    return fail(base::make_error_code(base::errc::invalid_argument), what + " is not a regular file");
  (void)::posix_fadvise(fd, 0, 0,
                        POSIX_FADV_SEQUENTIAL);  // a hint: reading ahead helps, failing does not hurt

  const std::int64_t size = before.st_size;
  std::vector<store::SyncBlock> blocks;
  blocks.reserve(static_cast<std::size_t>((size + block_size - 1) / block_size));
  // One block per read: SHA-256 and Adler-32 each see the whole block at once, and the buffer is at
  // most 16 MiB (files over 16 GB), 128 KiB for files under 250 MiB.
  std::string buf(
      static_cast<std::size_t>(std::min<std::int64_t>(block_size, std::max<std::int64_t>(size, 1))), '\0');
  // Syncthing reads no further than the size it saw first; a file that grew meanwhile fails the
  // check below anyway.
  for (std::int64_t offset = 0; offset < size;) {
    if (cancelled(cancel))
      return fail(make_error_code(errc::cancelled), "hashing " + what + " was cancelled");
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(block_size, size - offset));
    auto got = read_at(fd, buf.data(), want, offset, what);
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) break;  // shorter than it was: the check below reports it
    const std::string_view data(buf.data(), *got);
    blocks.push_back({offset, static_cast<std::int32_t>(*got), crypto::sha256(data), adler32(data)});
    offset += static_cast<std::int64_t>(*got);
    if (progress) progress(*got);
  }

  struct stat after {};
  if (::fstat(fd, &after) != 0) return tl::unexpected(errno_error(errno, "cannot stat " + what));
  std::int64_t hashed = 0;
  for (const auto& b : blocks) hashed += b.size;
  if (!same_content_stat(before, after) || hashed != size)
    return fail(make_error_code(errc::changed_while_hashing), what + " changed while it was hashed");

  if (blocks.empty()) blocks.push_back({0, 0, crypto::sha256({}), 0});
  return blocks;
}

std::string blocks_hash(const std::vector<store::SyncBlock>& blocks) {
  std::string input;
  input.reserve(blocks.size() * 36);
  for (const auto& b : blocks) {
    input.append(reinterpret_cast<const char*>(b.hash.data()), b.hash.size());
    for (int shift = 24; shift >= 0; shift -= 8)
      input.push_back(static_cast<char>((b.weak_hash >> shift) & 0xff));
  }
  const auto digest = crypto::sha256(input);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::uint32_t adler32(std::string_view data) {
  constexpr std::uint32_t MOD = 65521;
  // The most bytes before `b` can overflow 32 bits (zlib's NMAX), so the modulo runs once per 5552.
  constexpr std::size_t NMAX = 5552;
  std::uint32_t a = 1, b = 0;
  while (!data.empty()) {
    const std::size_t n = std::min(NMAX, data.size());
    for (std::size_t i = 0; i < n; ++i) {
      a += static_cast<unsigned char>(data[i]);
      b += a;
    }
    a %= MOD;
    b %= MOD;
    data.remove_prefix(n);
  }
  return (b << 16) | a;
}

}  // namespace kith::sync
