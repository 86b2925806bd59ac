#include "bep/lz4.hpp"

#include <lz4.h>

#include <cstdint>
#include <limits>

#include "bep/bytes.hpp"

namespace kith::bep {
namespace {

Error bad(std::string why) { return Error{base::make_error_code(base::errc::bad_input), std::move(why)}; }

}  // namespace

std::optional<std::string> lz4_compress(std::string_view plain) {
  // Syncthing's bound: prefix and block together at most n - n/32 bytes.
  const std::size_t budget = plain.size() - plain.size() / 32;
  if (budget <= 4 || plain.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return std::nullopt;
  std::string out(budget, '\0');
  put_be32(out.data(), static_cast<std::uint32_t>(plain.size()));
  // LZ4 returns 0 when the block does not fit in the room given: then compression does not pay.
  const int n = LZ4_compress_default(plain.data(), out.data() + 4, static_cast<int>(plain.size()),
                                     static_cast<int>(budget - 4));
  if (n <= 0) return std::nullopt;
  out.resize(4 + static_cast<std::size_t>(n));
  return out;
}

Result<std::string> lz4_decompress(std::string_view body, std::size_t max_plain) {
  if (body.size() < 4)
    return tl::unexpected(
        bad("LZ4 body of " + std::to_string(body.size()) + " bytes is too short for its 4-byte length"));
  const std::uint32_t announced = get_be32(body.data());
  if (announced > max_plain)
    return tl::unexpected(bad("LZ4 body announces " + std::to_string(announced) +
                              " bytes uncompressed, over the " + size_text(max_plain) + " limit"));
  if (announced > static_cast<std::uint32_t>(std::numeric_limits<int>::max()))
    return tl::unexpected(bad("LZ4 body announces " + std::to_string(announced) +
                              " bytes uncompressed, over liblz4's 2 GiB limit"));
  const std::string_view block = body.substr(4);
  if (block.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE))
    return tl::unexpected(
        bad("LZ4 body's block of " + std::to_string(block.size()) + " bytes is over liblz4's limit"));
  std::string plain(announced, '\0');
  // decompress_safe never writes past `announced` bytes: a block that would decode to more fails here.
  const int n = LZ4_decompress_safe(block.data(), plain.data(), static_cast<int>(block.size()),
                                    static_cast<int>(announced));
  if (n < 0)
    return tl::unexpected(
        bad("LZ4 body is corrupt (or longer than its announced " + std::to_string(announced) + " bytes)"));
  if (static_cast<std::uint32_t>(n) != announced)
    return tl::unexpected(bad("LZ4 body decompresses to " + std::to_string(n) + " bytes, not the announced " +
                              std::to_string(announced)));
  return plain;
}

}  // namespace kith::bep
