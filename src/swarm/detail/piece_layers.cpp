#include "swarm/detail/piece_layers.hpp"

#include <libtorrent/hasher.hpp>
#include <vector>

#include "swarm/types.hpp"

namespace kith::swarm::detail {
namespace {

constexpr int BLOCK = 16 * 1024;  // BEP 52 leaf size

lt::sha256_hash hash_pair(const lt::sha256_hash& a, const lt::sha256_hash& b) {
  lt::hasher256 h;
  h.update({a.data(), static_cast<long>(a.size())});
  h.update({b.data(), static_cast<long>(b.size())});
  return h.final();
}

// The merkle root over `layer` (hashes of piece-sized subtrees), padded to a power of two with the
// root of a piece-sized subtree of zero leaves (BEP 52: leaves past the end of the file are zero).
lt::sha256_hash layer_root(std::vector<lt::sha256_hash> layer, int piece_length) {
  lt::sha256_hash pad;  // zeros: a leaf past the end
  for (int blocks = piece_length / BLOCK; blocks > 1; blocks /= 2) pad = hash_pair(pad, pad);
  std::size_t width = 1;
  while (width < layer.size()) width *= 2;
  layer.resize(width, pad);
  while (layer.size() > 1) {
    for (std::size_t i = 0; i < layer.size() / 2; ++i) layer[i] = hash_pair(layer[2 * i], layer[2 * i + 1]);
    layer.resize(layer.size() / 2);
  }
  return layer.front();
}

}  // namespace

Status check_piece_layers(const lt::torrent_info& ti) {
  if (!ti.info_hashes().has_v2()) return {};
  const auto& files = ti.files();
  const int piece_length = files.piece_length();
  for (auto f : files.file_range()) {
    // Files no larger than a piece have no layer: their root is their one piece's hash, checked as
    // it is downloaded.
    if (files.pad_file_at(f) || files.file_size(f) <= piece_length) continue;
    auto bytes = ti.piece_layer(f);
    const auto n = static_cast<std::size_t>(files.file_num_pieces(f));
    if (bytes.size() != static_cast<long>(n * lt::sha256_hash::size())) {
      return fail(make_error_code(errc::bad_torrent),
                  "the v2 piece layer of '" + files.file_path(f) + "' has the wrong size");
    }
    std::vector<lt::sha256_hash> layer(n);
    for (std::size_t i = 0; i < n; ++i) layer[i].assign(bytes.data() + i * lt::sha256_hash::size());
    if (layer_root(std::move(layer), piece_length) != files.root(f)) {
      return fail(make_error_code(errc::bad_torrent),
                  "the v2 piece layer of '" + files.file_path(f) + "' does not match the file's root hash");
    }
  }
  return {};
}

}  // namespace kith::swarm::detail
