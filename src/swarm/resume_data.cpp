#include "swarm/resume_data.hpp"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/write_resume_data.hpp>

#include "swarm/types.hpp"

namespace kith::swarm {

Result<std::vector<std::uint8_t>> drop_partial_pieces(const std::vector<std::uint8_t>& resume) {
  lt::error_code ec;
  auto params = lt::read_resume_data(
      {reinterpret_cast<const char*>(resume.data()), static_cast<long>(resume.size())}, ec);
  if (ec) return fail(make_error_code(errc::bad_torrent), "resume data is unreadable: " + ec.message());
  if (!params.ti)
    return fail(make_error_code(errc::bad_torrent), "resume data without the torrent's metadata");
  const auto& fs = params.ti->files();
  const auto& prio = params.file_priorities;
  for (auto f : fs.file_range()) {
    auto idx = static_cast<std::size_t>(static_cast<int>(f));
    if (fs.pad_file_at(f) || fs.file_size(f) == 0 || idx >= prio.size() || prio[idx] != lt::dont_download)
      continue;
    auto first = fs.map_file(f, 0, 1).piece;
    auto last = fs.map_file(f, fs.file_size(f) - 1, 1).piece;
    for (auto p = first; p <= last; ++p) {
      if (p < params.have_pieces.end_index()) params.have_pieces.clear_bit(p);
      if (p < params.verified_pieces.end_index()) params.verified_pieces.clear_bit(p);
      params.unfinished_pieces.erase(p);
    }
  }
  auto out = lt::write_resume_data_buf(params);
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

}  // namespace kith::swarm
