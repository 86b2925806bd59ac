#pragma once
// Making a torrent from a local file or folder (what `kith share` does before seeding it).
#include <filesystem>
#include <string>
#include <vector>

#include "swarm/source.hpp"
#include "swarm/types.hpp"

namespace kith::swarm {

struct MakeOptions {
  TorrentFormat format = TorrentFormat::hybrid;
  std::vector<std::string> trackers;
  std::string comment;
};

struct MadeTorrent {
  std::string bytes;  // the bencoded .torrent
  Source source;      // parsed from `bytes`, ready to add
};

// Hashes every piece of `path` (a file or a folder, recursively; hidden files included, symlinks
// skipped). Blocking: run it off the io thread.
Result<MadeTorrent> make_torrent(const std::filesystem::path& path, const MakeOptions& options);

TorrentFormat parse_format(const std::string& text, bool* ok);

}  // namespace kith::swarm
