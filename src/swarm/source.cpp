#include "swarm/source.hpp"

#include <libtorrent/bdecode.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>
#include <optional>

#include "base/endpoint.hpp"
#include "base/fs.hpp"
#include "base/hex.hpp"
#include "crypto/transfer_certs.hpp"
#include "swarm/detail/intake_limits.hpp"
#include "swarm/detail/piece_layers.hpp"
#include "swarm/detail/source_data.hpp"
#include "swarm/limits.hpp"

namespace kith::swarm {
namespace detail {

std::string hash_hex(const lt::sha1_hash& h) {
  return base::to_hex({h.data(), static_cast<std::size_t>(h.size())});
}
std::string hash_hex(const lt::sha256_hash& h) {
  return base::to_hex({h.data(), static_cast<std::size_t>(h.size())});
}

Result<lt::tcp::endpoint> parse_endpoint(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return fail(make_error_code(errc::bad_link),
                "'" + text + "' is not a peer address (IP:PORT or [IPv6]:PORT): " + why);
  };
  auto hp = base::parse_host_port(text);
  if (!hp) return bad(hp.error().message);
  if (hp->kind == base::HostKind::name) return bad("a peer is named by its IP address");
  lt::error_code ec;
  auto address = lt::make_address(hp->host, ec);
  if (ec) return bad(ec.message());
  return lt::tcp::endpoint(address, hp->port);
}

InfoHashes to_hashes(const lt::info_hash_t& ih) {
  InfoHashes out;
  if (ih.has_v1()) out.v1 = hash_hex(ih.v1);
  if (ih.has_v2()) out.v2 = hash_hex(ih.v2);
  return out;
}

}  // namespace detail

namespace {

// One message for a .torrent over the limit, whether it came as a file or as bytes from the API.
Error too_large(std::uintmax_t size) {
  return {make_error_code(errc::bad_torrent), "the .torrent is too large: " + std::to_string(size) +
                                                  " bytes, over kith's limit of " +
                                                  std::to_string(MAX_TORRENT_BYTES >> 20) + " MiB"};
}

}  // namespace

Result<Source> parse_magnet(std::string_view link) {
  lt::error_code ec;
  auto data = std::make_shared<detail::SourceData>();
  data->params = lt::parse_magnet_uri(lt::string_view(link.data(), link.size()), ec);
  if (ec) return fail(make_error_code(errc::bad_link), "not a valid magnet link: " + ec.message());
  if (!data->params.info_hashes.has_v1() && !data->params.info_hashes.has_v2()) {
    return fail(make_error_code(errc::bad_link),
                "magnet link has no info-hash (xt=urn:btih:... or urn:btmh:...)");
  }
  Source s;
  s.hashes = detail::to_hashes(data->params.info_hashes);
  data->dropped = detail::cap_lists(data->params);
  s.name = data->params.name;
  s.has_metadata = false;
  s.data = std::move(data);
  return s;
}

Result<Source> parse_torrent(std::string_view bytes) {
  if (bytes.size() > MAX_TORRENT_BYTES) return tl::unexpected(too_large(bytes.size()));
  // Decoded here with the limits libtorrent's own .torrent parser uses, so that the lists outside the
  // info dict can be cut down before libtorrent sees them.
  const lt::load_torrent_limits limits;
  lt::error_code ec;
  auto decoded = lt::bdecode({bytes.data(), static_cast<long>(bytes.size())}, ec, nullptr,
                             limits.max_decode_depth, limits.max_decode_tokens);
  if (ec) return fail(make_error_code(errc::bad_torrent), "not a valid .torrent file: " + ec.message());
  detail::Dropped dropped;
  std::optional<std::string> capped = detail::cap_torrent_lists(decoded, dropped);
  if (capped) {
    decoded = lt::bdecode({capped->data(), static_cast<long>(capped->size())}, ec, nullptr,
                          limits.max_decode_depth, limits.max_decode_tokens);
    if (ec) return fail(make_error_code(errc::bad_torrent), "not a valid .torrent file: " + ec.message());
  }
  auto ti = std::make_shared<lt::torrent_info>(decoded, ec);
  if (ec) return fail(make_error_code(errc::bad_torrent), "not a valid .torrent file: " + ec.message());
  if (ti->num_files() == 0 || ti->total_size() <= 0) {
    return fail(make_error_code(errc::bad_torrent), "torrent has no files");
  }
  if (auto r = detail::check_piece_layers(*ti); !r) return tl::unexpected(r.error());
  // libtorrent would add an SSL torrent whose certificate it cannot read, and then fail it.
  const auto cert = ti->ssl_cert();
  if (!cert.empty() && !crypto::is_one_certificate(std::string_view(cert.data(), cert.size()))) {
    return fail(make_error_code(errc::bad_torrent),
                "the torrent's ssl-cert is not a readable X.509 certificate (PEM)");
  }
  auto data = std::make_shared<detail::SourceData>();
  data->params.ti = ti;
  data->dropped = dropped;
  Source s;
  s.hashes = detail::to_hashes(ti->info_hashes());
  s.name = ti->name();
  s.has_metadata = true;
  s.ssl_root = std::string(ti->ssl_cert());
  s.total_size = ti->total_size();
  s.data = std::move(data);
  return s;
}

Result<std::string> read_torrent_file(const std::string& path) {
  std::error_code fs_ec;
  auto size = std::filesystem::file_size(path, fs_ec);
  if (!fs_ec && size > MAX_TORRENT_BYTES) {
    auto e = too_large(size);
    return fail(e.code, path + ": " + e.message);
  }
  return base::read_file(path, MAX_TORRENT_BYTES);
}

Result<Source> parse_link_or_file(const std::string& text) {
  if (text.rfind("magnet:", 0) == 0) return parse_magnet(text);
  auto bytes = read_torrent_file(text);
  if (!bytes) {
    if (bytes.error().code == base::make_error_code(base::errc::not_found)) {
      return fail(make_error_code(errc::bad_link),
                  "'" + text + "' is neither a magnet link (magnet:?...) nor an existing .torrent file");
    }
    if (bytes.error().code == make_error_code(errc::bad_torrent)) return tl::unexpected(bytes.error());
    return fail(make_error_code(errc::bad_torrent), bytes.error().message);
  }
  auto src = parse_torrent(*bytes);
  if (!src) return fail(src.error().code, text + ": " + src.error().message);
  return src;
}

}  // namespace kith::swarm
