#pragma once
// The libtorrent side of swarm::Source; only swarm's own sources include this.
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/info_hash.hpp>
#include <libtorrent/socket.hpp>

#include "swarm/detail/intake_limits.hpp"
#include "swarm/types.hpp"

namespace kith::swarm::detail {

struct SourceData {
  lt::add_torrent_params params;
  Dropped dropped;  // what intake cut from the link's or torrent's lists; logged when it is added
};

// "1.2.3.4:6881" or "[::1]:6881" -> endpoint; errc::bad_link otherwise (names are not resolved).
Result<lt::tcp::endpoint> parse_endpoint(const std::string& text);

InfoHashes to_hashes(const lt::info_hash_t& ih);
std::string hash_hex(const lt::sha1_hash& h);
std::string hash_hex(const lt::sha256_hash& h);

}  // namespace kith::swarm::detail
