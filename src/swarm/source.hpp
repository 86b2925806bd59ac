#pragma once
// Intake of what a user hands to `get`: a magnet link or the bytes of a .torrent file.
//
// Everything here is outside input: parsing never trusts sizes, names or paths from it. libtorrent
// sanitises file paths inside torrents (no "..", no absolute paths, no device names) when it builds
// the file list, so a torrent cannot make kith write outside the save path.
#include <memory>
#include <string>
#include <string_view>

#include "swarm/types.hpp"

namespace kith::swarm {

namespace detail {
struct SourceData;  // holds libtorrent's add_torrent_params
}

struct Source {
  InfoHashes hashes;
  std::string name;             // display name (may be empty for a bare magnet)
  bool has_metadata = false;    // true for a .torrent, false for a magnet until peers send it
  std::string ssl_root;         // an SSL torrent's root certificate (PEM) from its info dict; else empty
  std::int64_t total_size = 0;  // bytes, when the metadata is known
  std::shared_ptr<const detail::SourceData> data;
};

// A magnet link ("magnet:?xt=urn:btih:...", v1 and/or v2 "xt=urn:btmh:1220...", "x.pe" peer hints).
Result<Source> parse_magnet(std::string_view link);
// The bytes of a .torrent file (bencoded metainfo, v1, v2 or hybrid). Refused (errc::bad_torrent):
// more than MAX_TORRENT_BYTES, v2 piece layers that do not hash to their files' roots, an ssl-cert
// that is not one readable certificate. Trackers, web seeds and DHT nodes past swarm/limits.hpp are
// dropped (logged once), as are those of a magnet link and its x.pe peers.
Result<Source> parse_torrent(std::string_view bytes);
// The bytes of the .torrent file at `path`: errc::bad_torrent with parse_torrent's message when it is
// over MAX_TORRENT_BYTES (swarm/limits.hpp), base::errc::not_found when it does not exist.
Result<std::string> read_torrent_file(const std::string& path);
// `text` is a magnet link, or else a path to a .torrent file that is read and parsed.
Result<Source> parse_link_or_file(const std::string& text);

}  // namespace kith::swarm
