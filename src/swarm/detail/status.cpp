#include "swarm/detail/status.hpp"

#include <cerrno>
#include <libtorrent/torrent_info.hpp>
#include <optional>
#include <vector>

#include "base/hex.hpp"
#include "swarm/detail/source_data.hpp"

namespace kith::swarm::detail {
namespace {

std::string state_name(const lt::torrent_status& st) {
  if (st.errc) return "error";
  if (st.flags & lt::torrent_flags::paused) return "paused";
  switch (st.state) {
    case lt::torrent_status::checking_files:
    case lt::torrent_status::checking_resume_data:
      return "checking";
    case lt::torrent_status::downloading_metadata:
      return "metadata";
    case lt::torrent_status::downloading:
      return "downloading";
    case lt::torrent_status::finished:
      return "finished";
    case lt::torrent_status::seeding:
      return "seeding";
    default:
      return "downloading";
  }
}

// What the user chose and has, in bytes of the torrent's files. Summed from the files rather than
// taken from libtorrent's totals, which differ from what a user sees in two ways:
// - they count BEP 47 pad files (every hybrid and v2 torrent has them): torrent_info::total_size
//   does, and so does total_wanted while there is no piece picker;
// - once a torrent has every piece, libtorrent drops its piece picker and reports every byte as
//   wanted, so choosing fewer files of a finished download left total_wanted unchanged.
// File priorities follow prioritize_files() as soon as libtorrent's disk thread confirmed them.
struct Sizes {
  std::int64_t total = 0;   // every file, pads left out
  std::int64_t wanted = 0;  // the files with a priority > 0
  std::int64_t done = 0;    // verified bytes of those (whole pieces, as libtorrent counts them)
};

std::optional<Sizes> file_sizes(const lt::torrent_status& st, const lt::torrent_info& ti) {
  try {
    const auto& fs = ti.files();
    const auto prio = st.handle.get_file_priorities();
    std::vector<std::int64_t> progress;
    if (!st.is_seeding) progress = st.handle.file_progress(lt::torrent_handle::piece_granularity);
    Sizes out;
    for (auto i : fs.file_range()) {
      if (fs.pad_file_at(i)) continue;
      const auto size = fs.file_size(i);
      const auto idx = static_cast<std::size_t>(static_cast<int>(i));
      out.total += size;
      if (idx < prio.size() && prio[idx] == lt::dont_download) continue;
      out.wanted += size;
      out.done += st.is_seeding ? size : (idx < progress.size() ? progress[idx] : 0);
    }
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // the transfer was removed meanwhile: libtorrent's own figures will do
  }
}

}  // namespace

TransferStatus to_status(const lt::torrent_status& st) {
  TransferStatus t;
  t.hashes = to_hashes(st.info_hashes);
  t.id = t.hashes.id();
  t.name = st.name;
  t.state = state_name(st);
  if (st.errc) {
    t.error = st.errc.message();  // SessionHost replaces it with the alert's fuller message
    t.disk_full = st.errc.value() == ENOSPC;
  }
  t.has_metadata = st.has_metadata;
  t.total_wanted = st.total_wanted;
  t.total_done = st.total_wanted_done;
  if (auto ti = st.torrent_file.lock()) {
    t.total_size = ti->total_size();
    if (auto sizes = file_sizes(st, *ti)) {
      t.total_size = sizes->total;
      t.total_wanted = sizes->wanted;
      t.total_done = sizes->done;
    }
  }
  t.progress = t.total_wanted > 0 ? static_cast<double>(t.total_done) / static_cast<double>(t.total_wanted)
                                  : (st.has_metadata ? 1.0 : 0.0);
  // libtorrent's rates are moving averages that decay for seconds after data stopped: where nothing
  // can be moving (paused, failed, checking, no peer connected; downloading once every wanted piece
  // is here), say 0.
  const bool idle = t.state == "paused" || t.state == "error" || t.state == "checking" || st.num_peers == 0;
  t.download_rate = idle || st.is_finished ? 0 : st.download_payload_rate;
  t.upload_rate = idle ? 0 : st.upload_payload_rate;
  t.downloaded = st.total_payload_download;
  t.uploaded = st.total_payload_upload;
  t.peers = st.num_peers;
  t.seeds = st.num_seeds;
  auto left = t.total_wanted - t.total_done;
  if (!st.has_metadata)
    t.eta = -1;  // the size is not known yet
  else
    t.eta = left <= 0 ? 0 : (t.download_rate > 0 ? left / t.download_rate : -1);
  t.save_path = st.save_path;
  t.sequential = static_cast<bool>(st.flags & lt::torrent_flags::sequential_download);
  return t;
}

}  // namespace kith::swarm::detail

namespace kith::swarm::detail {

std::string endpoint_text(const lt::tcp::endpoint& ep) {
  const auto addr = ep.address();
  return addr.is_v6() ? "[" + addr.to_string() + "]:" + std::to_string(ep.port())
                      : addr.to_string() + ":" + std::to_string(ep.port());
}

PeerStatus to_peer_status(const lt::peer_info& p) {
  PeerStatus out;
  out.endpoint = endpoint_text(p.ip);
  out.client = p.client;
  out.peer_id = base::to_hex(std::string_view(p.pid.data(), p.pid.size()));
  out.downloaded = p.total_download;
  out.uploaded = p.total_upload;
  out.download_rate = p.payload_down_speed;
  out.upload_rate = p.payload_up_speed;
  out.progress = p.progress;
  out.seed = static_cast<bool>(p.flags & lt::peer_info::seed);
  out.incoming = !(p.flags & lt::peer_info::local_connection);  // local_connection: we dialled it
  out.connection = (p.flags & lt::peer_info::utp_socket) ? "utp" : "tcp";
  if (p.flags & lt::peer_info::rc4_encrypted) out.connection += "+rc4";
  return out;
}

}  // namespace kith::swarm::detail
