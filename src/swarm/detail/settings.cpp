#include "swarm/detail/settings.hpp"

#include <spdlog/spdlog.h>

#include <libtorrent/alert.hpp>

#include "swarm/listen.hpp"

namespace kith::swarm::detail {

std::string listen_interfaces(const SessionOptions& o) {
  // Rebuilt from swarm::parse_listen, the parser the settings registry checks bt.listen and
  // bt.ssl_listen with, so libtorrent listens on exactly what was accepted (listen.hpp).
  std::string out;
  for (const auto& [text, ssl] : {std::pair{&o.listen, false}, std::pair{&o.ssl_listen, true}}) {
    auto entries = parse_listen(*text);
    if (!entries) {
      spdlog::error("not listening on '{}': {}", *text, entries.error().message);
      continue;
    }
    auto part = swarm::listen_interfaces(*entries, ssl);
    if (!part.empty()) out += (out.empty() ? "" : ",") + part;
  }
  return out;
}

lt::settings_pack make_settings(const SessionOptions& o) {
  lt::settings_pack p;
  p.set_str(lt::settings_pack::user_agent, "kith/" KITH_VERSION);
  p.set_str(lt::settings_pack::peer_fingerprint, "-KI0100-");
  p.set_str(lt::settings_pack::listen_interfaces, listen_interfaces(o));
  p.set_bool(lt::settings_pack::enable_dht, o.dht);
  p.set_str(lt::settings_pack::dht_bootstrap_nodes, o.dht_bootstrap);
  p.set_bool(lt::settings_pack::enable_lsd, o.lsd);
  p.set_bool(lt::settings_pack::enable_upnp, o.upnp);
  p.set_bool(lt::settings_pack::enable_natpmp, o.natpmp);
  p.set_int(lt::settings_pack::download_rate_limit, o.download_limit);
  p.set_int(lt::settings_pack::upload_rate_limit, o.upload_limit);
  lt::alert_category_t mask =
      lt::alert_category::error | lt::alert_category::status | lt::alert_category::storage |
      lt::alert_category::dht | lt::alert_category::ip_block |  // peer_blocked: refusal counters
      lt::alert_category::dht_operation |   // dht_get_peers_reply: dht_get_peers() (the doorbell)
      lt::alert_category::piece_progress |  // piece_finished: verified pieces (PieceGate, open_reader)
      lt::alert_category::file_progress |   // file_completed: scan each file as it completes
      lt::alert_category::port_mapping;     // map_port() results, logged
  // Not block_progress: one alert per 16 KiB block crowds the queue at full speed (metadata_received
  // could be dropped); sources() comes from a peer plugin instead (detail/source_recorder.hpp).
  if (o.debug_alerts) mask |= lt::alert_category::peer | lt::alert_category::connect;
  p.set_int(lt::settings_pack::alert_mask, mask);
  // Peers on the same host or LAN (x.pe hints, LSD) are the common case for kith: allow several
  // connections from one IP. (libtorrent itself exempts LAN peers from rate limits: see limit_lan.)
  p.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
  // A peer whose data fails a hash check is never trusted again for that torrent: parole mode makes a
  // suspect download whole pieces alone, and libtorrent's smart-ban plugin (a default plugin, kept in
  // session_host.cpp) bans the exact peer whose block did not match.
  p.set_bool(lt::settings_pack::use_parole_mode, true);
  // Throughput: hash on both cores; larger send buffers keep a fast local peer fed.
  p.set_int(lt::settings_pack::hashing_threads, 2);
  p.set_int(lt::settings_pack::aio_threads, 4);
  p.set_int(lt::settings_pack::send_buffer_watermark, 4 * 1024 * 1024);
  p.set_int(lt::settings_pack::send_buffer_watermark_factor, 150);
  p.set_int(lt::settings_pack::send_buffer_low_watermark, 1024 * 1024);
  p.set_int(lt::settings_pack::max_queued_disk_bytes, 16 * 1024 * 1024);
  p.set_bool(lt::settings_pack::close_redundant_connections, true);
  // Dial TCP: libtorrent's uTP (LEDBAT, made to yield to other traffic) reaches only a few MB/s between
  // fast peers such as two on one LAN or host. Incoming uTP stays on for peers that prefer it.
  p.set_bool(lt::settings_pack::enable_outgoing_utp, false);
  // A peer that dropped (our pause, a disk error, its restart) is dialled again after 5 s, not 60 s:
  // on a LAN with no DHT or tracker, the link's hinted peers are the only ones there are.
  p.set_int(lt::settings_pack::min_reconnect_time, 5);
  if (o.dht_private) {
    p.set_bool(lt::settings_pack::dht_restrict_routing_ips, false);
    p.set_bool(lt::settings_pack::dht_restrict_search_ips, false);
    p.set_bool(lt::settings_pack::dht_enforce_node_id, false);
    p.set_bool(lt::settings_pack::dht_prefer_verified_node_ids, false);
    p.set_bool(lt::settings_pack::dht_ignore_dark_internet, false);
    // Every node of a one-host DHT has the same IP: the default 5 messages/s per IP would block them.
    p.set_int(lt::settings_pack::dht_block_ratelimit, 100000);
    // The default 8000 bytes/s of DHT replies drops requests once a few nodes on one host query each
    // other in bursts (benchmarks saw lookups stall for a minute).
    p.set_int(lt::settings_pack::dht_upload_rate_limit, 1000000);
  }
  return p;
}

}  // namespace kith::swarm::detail
