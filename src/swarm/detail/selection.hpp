#pragma once
// The libtorrent side of swarm/selection.hpp, shared by intake and SessionHost.
#include <libtorrent/download_priority.hpp>
#include <libtorrent/file_storage.hpp>
#include <string>
#include <vector>

namespace kith::swarm::detail {

// dont_download for every file, default for those whose path or name matches the glob.
std::vector<lt::download_priority_t> glob_priorities(const lt::file_storage& files, const std::string& glob);

// Whether any file that is not a pad file has a priority above dont_download (`priorities` as
// torrent_handle::get_file_priorities() returns them, one per file).
bool selects_any(const lt::file_storage& files, const std::vector<lt::download_priority_t>& priorities);

// Files as the user sees them (pad files left out).
int user_file_count(const lt::file_storage& files);

// The nothing_selected messages: "--only 'GLOB' matched none of the 3 files", and for a link's so=.
std::string glob_matched_nothing(const std::string& glob, int files);
std::string link_selected_nothing(int files);

}  // namespace kith::swarm::detail
