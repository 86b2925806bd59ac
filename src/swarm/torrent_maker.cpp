#include "swarm/torrent_maker.hpp"

#include <algorithm>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>

namespace kith::swarm {

TorrentFormat parse_format(const std::string& text, bool* ok) {
  *ok = true;
  if (text == "v1") return TorrentFormat::v1;
  if (text == "v2") return TorrentFormat::v2;
  if (text == "hybrid") return TorrentFormat::hybrid;
  *ok = false;
  return TorrentFormat::hybrid;
}

namespace {

// Thrown from libtorrent's per-piece callback to stop hashing: set_piece_hashes() aborts its disk
// jobs when an exception leaves it (its disk_aborter guard), which is also how qBittorrent cancels.
struct Cancelled {};

}  // namespace

Result<MadeTorrent> make_torrent(const std::filesystem::path& input, const MakeOptions& options,
                                 const MakeProgress& progress) {
  std::error_code fs_ec;
  auto path = std::filesystem::absolute(input, fs_ec).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "dir/" -> "dir"
  if (!std::filesystem::exists(path, fs_ec)) {
    return fail(make_error_code(errc::create_failed), path.string() + " does not exist");
  }
  lt::file_storage fs;
  // Symlinks are skipped: following one would share whatever it points at, even outside the folder.
  lt::add_files(
      fs, path.string(),
      [](const std::string& p) {
        std::error_code ec;
        return !std::filesystem::is_symlink(p, ec);
      },
      lt::create_flags_t{});
  if (fs.num_files() == 0 || fs.total_size() == 0) {
    return fail(make_error_code(errc::create_failed), path.string() + " has no data to share (empty)");
  }
  lt::create_flags_t flags{};
  if (options.format == TorrentFormat::v1) flags |= lt::create_torrent::v1_only;
  if (options.format == TorrentFormat::v2) flags |= lt::create_torrent::v2_only;
  int piece_size = 0;  // 0: libtorrent picks one for the total size
  if (options.max_pieces > 0) {
    piece_size = 16 * 1024;
    while (piece_size < (1 << 28) && (fs.total_size() + piece_size - 1) / piece_size > options.max_pieces)
      piece_size *= 2;
  }
  lt::create_torrent ct(fs, piece_size, flags);
  int tier = 0;
  for (const auto& url : options.trackers) ct.add_tracker(url, tier++);
  if (!options.comment.empty()) ct.set_comment(options.comment.c_str());
  ct.set_creator("kith " KITH_VERSION);
  if (!options.root_cert.empty()) {
    ct.set_root_cert(options.root_cert);
    ct.set_priv(true);
  }
  lt::error_code ec;
  const auto total = static_cast<std::uint64_t>(fs.total_size());
  const auto piece_length = static_cast<std::uint64_t>(ct.piece_length());
  try {
    lt::set_piece_hashes(
        ct, path.parent_path().string(),
        [&](lt::piece_index_t piece) {
          if (progress.cancel && progress.cancel->load()) throw Cancelled{};
          if (progress.on_progress)
            progress.on_progress(
                std::min(total, (static_cast<std::uint64_t>(static_cast<int>(piece)) + 1) * piece_length),
                total);
        },
        ec);
  } catch (const Cancelled&) {
    return fail(make_error_code(errc::cancelled), "hashing " + path.string() + " was cancelled");
  }
  if (ec)
    return fail(make_error_code(errc::create_failed), "cannot hash " + path.string() + ": " + ec.message());
  std::string bytes;
  lt::bencode(std::back_inserter(bytes), ct.generate());
  auto source = parse_torrent(bytes);
  if (!source) return tl::unexpected(source.error());
  return MadeTorrent{std::move(bytes), std::move(*source)};
}

}  // namespace kith::swarm
