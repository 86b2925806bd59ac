#pragma once
// Edits of libtorrent resume data that kith needs when it moves a download's files itself.
#include <cstdint>
#include <vector>

#include "base/error.hpp"

namespace kith::swarm {

// The same resume data without the pieces that also hold bytes of unwanted files (their bytes of the
// unwanted files were in libtorrent's .parts file, which stays behind in staging): the transfer is
// marked as not having them, so it never serves them. Add it with AddOptions::whole_pieces_only so
// they are not fetched again either. Error swarm::errc::bad_torrent if the data does not parse or
// lacks the info dict.
Result<std::vector<std::uint8_t>> drop_partial_pieces(const std::vector<std::uint8_t>& resume);

}  // namespace kith::swarm
