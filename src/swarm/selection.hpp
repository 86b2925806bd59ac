#pragma once
// Which files of a transfer a `get` downloads, and refusing a selection that names none.
//
// A selection comes from `--only GLOB` (kith's own; matched against each file's path and name) or a
// magnet's `so=` indices (BEP 53, applied by libtorrent). One that selects no file would "complete" at
// once with nothing in it, so it is an error, swarm::errc::nothing_selected: refused at intake when
// the file list is known (a .torrent), or the transfer ends in state "error" with that error code once
// a magnet's metadata arrives (TransferStatus::error_code). An explicit empty choice of file indices
// (SessionHost::set_wanted_files) is the user's and is not an error.
#include <string>

#include "swarm/source.hpp"

namespace kith::swarm {

// nothing_selected when `only_glob` is not empty and matches no file of `source`; ok otherwise (also
// for a magnet, whose files are not known yet).
Status check_selection(const Source& source, const std::string& only_glob);

}  // namespace kith::swarm
