#include "swarm/selection.hpp"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>

#include "swarm/detail/selection.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/session_host.hpp"

namespace kith::swarm {
namespace detail {

std::vector<lt::download_priority_t> glob_priorities(const lt::file_storage& files, const std::string& glob) {
  std::vector<lt::download_priority_t> prio(static_cast<std::size_t>(files.num_files()), lt::dont_download);
  for (auto i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    std::string path = files.file_path(i);
    std::string base = std::string(files.file_name(i));
    // Match the whole path ("*/*.mp3") or just the name ("*.mp3"), as users of other clients expect.
    if (fnmatch(glob.c_str(), path.c_str(), 0) == 0 || fnmatch(glob.c_str(), base.c_str(), 0) == 0) {
      prio[static_cast<std::size_t>(static_cast<int>(i))] = lt::default_priority;
    }
  }
  return prio;
}

bool selects_any(const lt::file_storage& files, const std::vector<lt::download_priority_t>& priorities) {
  for (auto i : files.file_range()) {
    if (files.pad_file_at(i)) continue;
    auto idx = static_cast<std::size_t>(static_cast<int>(i));
    if (idx >= priorities.size() || priorities[idx] != lt::dont_download) return true;
  }
  return false;
}

int user_file_count(const lt::file_storage& files) {
  int n = 0;
  for (auto i : files.file_range()) n += files.pad_file_at(i) ? 0 : 1;
  return n;
}

std::string glob_matched_nothing(const std::string& glob, int files) {
  return "--only '" + glob + "' matched none of the " + std::to_string(files) +
         (files == 1 ? " file" : " files");
}

std::string link_selected_nothing(int files) {
  return "the link's file selection (so=) names none of the " + std::to_string(files) +
         (files == 1 ? " file" : " files");
}

}  // namespace detail

Status check_selection(const Source& source, const std::string& only_glob) {
  if (only_glob.empty() || !source.data || !source.data->params.ti) return {};
  const auto& files = source.data->params.ti->files();
  if (detail::selects_any(files, detail::glob_priorities(files, only_glob))) return {};
  return fail(make_error_code(errc::nothing_selected),
              detail::glob_matched_nothing(only_glob, detail::user_file_count(files)));
}

// Called once the file list is known (at add or restore with metadata, on metadata_received, on
// finished), when no explicit file choice was made. True the first time it finds the selection empty.
bool SessionHost::flag_empty_selection(const lt::torrent_handle& h) {
  auto ti = h.torrent_file();
  if (!ti) return false;
  auto id = detail::to_hashes(h.info_hashes()).id();
  std::string glob;
  {
    std::lock_guard lock(m_mutex);
    if (m_wanted.count(id) || m_unselected.count(id)) return false;
    if (auto it = m_globs.find(id); it != m_globs.end()) glob = it->second;
  }
  // A glob is judged by itself: prioritize_files() reaches get_file_priorities() only after a round
  // trip through libtorrent's disk thread. A link's so= was applied when the metadata arrived.
  const auto priorities = glob.empty() ? h.get_file_priorities() : detail::glob_priorities(ti->files(), glob);
  if (detail::selects_any(ti->files(), priorities)) return false;
  const int files = detail::user_file_count(ti->files());
  auto message =
      glob.empty() ? detail::link_selected_nothing(files) : detail::glob_matched_nothing(glob, files);
  std::lock_guard lock(m_mutex);
  return m_unselected.emplace(id, std::move(message)).second;
}

std::optional<std::string> SessionHost::selection_error(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  if (auto it = m_unselected.find(id); it != m_unselected.end()) return it->second;
  return std::nullopt;
}

}  // namespace kith::swarm
