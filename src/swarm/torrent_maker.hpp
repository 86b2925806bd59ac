#pragma once
// Making a torrent from a local file or folder (what `kith share` does before seeding it).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "swarm/source.hpp"
#include "swarm/types.hpp"

namespace kith::swarm {

struct MakeOptions {
  TorrentFormat format = TorrentFormat::hybrid;
  std::vector<std::string> trackers;
  std::string comment;
  // PEM root certificate: makes an SSL torrent (peers must present a certificate it signed), marked
  // private so libtorrent never announces it on the DHT, by PEX or LSD.
  std::string root_cert;
  // Pieces at most this many (0: libtorrent's automatic piece size): picks the smallest power-of-two
  // piece size from 16 KiB that keeps the piece hashes, and so the .torrent, small.
  int max_pieces = 0;
};

// Hashing progress and cancellation (a share of a large folder hashes for minutes).
struct MakeProgress {
  // Called on the hashing thread after each piece: (bytes hashed, bytes in total).
  std::function<void(std::uint64_t done, std::uint64_t total)> on_progress;
  // Checked after each piece: when it reads true, hashing stops with swarm::errc::cancelled.
  const std::atomic<bool>* cancel = nullptr;
};

struct MadeTorrent {
  std::string bytes;  // the bencoded .torrent
  Source source;      // parsed from `bytes`, ready to add
};

// Hashes every piece of `path` (a file or a folder, recursively; hidden files included, symlinks
// skipped). Blocking: run it on a worker pool, never on an io thread.
Result<MadeTorrent> make_torrent(const std::filesystem::path& path, const MakeOptions& options,
                                 const MakeProgress& progress = {});

TorrentFormat parse_format(const std::string& text, bool* ok);

}  // namespace kith::swarm
