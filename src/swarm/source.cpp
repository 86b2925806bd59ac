#include "swarm/source.hpp"

#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>

#include "base/fs.hpp"
#include "base/hex.hpp"
#include "base/host_port.hpp"
#include "swarm/detail/source_data.hpp"

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

// Torrents bigger than this are refused before parsing (the largest real ones are a few MiB).
constexpr std::uintmax_t MAX_TORRENT_BYTES = 32u << 20;

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
  s.name = data->params.name;
  s.has_metadata = false;
  s.data = std::move(data);
  return s;
}

Result<Source> parse_torrent(std::string_view bytes) {
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(
      lt::span<const char>(bytes.data(), static_cast<long>(bytes.size())), ec, lt::from_span);
  if (ec) return fail(make_error_code(errc::bad_torrent), "not a valid .torrent file: " + ec.message());
  if (ti->num_files() == 0 || ti->total_size() <= 0) {
    return fail(make_error_code(errc::bad_torrent), "torrent has no files");
  }
  auto data = std::make_shared<detail::SourceData>();
  data->params.ti = ti;
  Source s;
  s.hashes = detail::to_hashes(ti->info_hashes());
  s.name = ti->name();
  s.has_metadata = true;
  s.ssl_root = std::string(ti->ssl_cert());
  s.total_size = ti->total_size();
  s.data = std::move(data);
  return s;
}

Result<Source> parse_link_or_file(const std::string& text) {
  if (text.rfind("magnet:", 0) == 0) return parse_magnet(text);
  auto bytes = base::read_file(text, MAX_TORRENT_BYTES);
  if (!bytes) {
    if (bytes.error().code == base::make_error_code(base::errc::not_found)) {
      return fail(make_error_code(errc::bad_link),
                  "'" + text + "' is neither a magnet link (magnet:?...) nor an existing .torrent file");
    }
    return fail(make_error_code(errc::bad_torrent), bytes.error().message);
  }
  auto src = parse_torrent(*bytes);
  if (!src) return fail(src.error().code, text + ": " + src.error().message);
  return src;
}

}  // namespace kith::swarm
