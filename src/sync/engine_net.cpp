// The engine's network half: who may connect, the Hello, ClusterConfig, and the index exchange
// (docs/protocol/bep.md). Blocks are requested in engine_pull.cpp and served here.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstring>
#include <fstream>

#include "base/endpoint.hpp"
#include "base/terminal.hpp"
#include "bep/device_id.hpp"
#include "crypto/bep_tls.hpp"
#include "crypto/hash.hpp"
#include "sync/engine.hpp"
#include "sync/errors.hpp"
#include "sync/file_info.hpp"
#include "sync/folder_fs.hpp"
#include "sync/names.hpp"

namespace kith::sync {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// An Index or IndexUpdate carries at most this many entries, and no more than INDEX_BATCH_BLOCKS blocks
// in all unless one entry alone has more (a 20 GiB file of 128 KiB blocks has 160,000): what a batch
// holds in memory goes with the data it describes, so it is bounded by blocks, not only by files.
constexpr std::size_t INDEX_BATCH_FILES = 1000;
constexpr std::size_t INDEX_BATCH_BLOCKS = 100'000;  // about 5 MiB in the store, 6 MiB on the wire
constexpr auto HANDSHAKE_TIMEOUT = std::chrono::seconds(10);

std::string endpoint_text(const tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// "tcp://host:port", "host:port" or "[v6]:port" -> host, port.
std::optional<std::pair<std::string, std::string>> split_address(std::string a) {
  for (const char* scheme : {"tcp://", "tcp4://", "tcp6://"})
    if (a.rfind(scheme, 0) == 0) a = a.substr(std::string(scheme).size());
  const auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.size()) return std::nullopt;
  std::string host = a.substr(0, colon), port = a.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, port);
}
}  // namespace

Status Engine::listen() {
  auto server = crypto::make_bep_context(m_deps.device_key, crypto::TlsRole::server);
  if (!server) return tl::unexpected(server.error());
  auto client = crypto::make_bep_context(m_deps.device_key, crypto::TlsRole::client);
  if (!client) return tl::unexpected(client.error());
  m_server_tls = *server;
  m_client_tls = *client;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(m_deps.listen_host, ec);
  if (ec)
    return fail(base::make_error_code(base::errc::bad_input),
                "sync: bad listen address " + m_deps.listen_host);
  for (std::uint16_t port : {m_deps.port, std::uint16_t{0}}) {
    auto acceptor = std::make_unique<tcp::acceptor>(m_strand);
    tcp::endpoint ep(address, port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(ep, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) {
      m_port = acceptor->local_endpoint().port();
      m_acceptor = std::move(acceptor);
      break;
    }
    spdlog::warn("sync: cannot listen on port {} ({}){}", port, ec.message(),
                 port ? "; using any free port" : "");
  }
  if (!m_acceptor)
    return fail(base::make_error_code(base::errc::unavailable),
                "sync: cannot listen for devices: " + ec.message());
  m_dial_timer = std::make_unique<asio::steady_timer>(m_strand);
  accept();
  return {};
}

void Engine::accept() {
  m_acceptor->async_accept(
      asio::make_strand(m_deps.io), [this](boost::system::error_code ec, tcp::socket socket) {
        if (m_stopped || ec == asio::error::operation_aborted) return;
        if (!ec) {
          boost::system::error_code ignored;
          const auto remote = endpoint_text(socket.remote_endpoint(ignored));
          socket.set_option(tcp::no_delay(true), ignored);
          auto stream = std::make_shared<Connection::Stream>(std::move(socket), *m_server_tls);
          auto timer = std::make_shared<asio::steady_timer>(stream->get_executor());
          timer->expires_after(HANDSHAKE_TIMEOUT);
          timer->async_wait([stream](boost::system::error_code e) {
            if (!e) stream->lowest_layer().close(e);
          });
          stream->async_handshake(
              asio::ssl::stream_base::server, [this, stream, remote, timer](boost::system::error_code e) {
                timer->cancel();
                if (e) {
                  spdlog::debug("sync: TLS handshake with {} failed: {}", remote, e.message());
                  return;
                }
                asio::post(m_strand, [this, stream, remote] { secured(stream, remote, true, std::nullopt); });
              });
        }
        accept();
      });
}

void Engine::dial_all() {
  if (m_stopped) return;
  for (auto& [id, d] : m_devices)
    if (!d.conn && !d.dialing && !dial_addresses(d).empty()) dial(id);
  m_dial_timer->expires_after(std::chrono::seconds(m_deps.dial_interval_s));
  m_dial_timer->async_wait([this](boost::system::error_code ec) {
    if (!ec) dial_all();
  });
}

void Engine::dial(const std::string& device) {
  // Every added device is dialled, as Syncthing does, also with no folder shared yet: its
  // ClusterConfig is how its offers arrive.
  Device& d = m_devices[device];
  d.dialing = true;
  auto addresses = std::make_shared<std::vector<std::string>>(dial_addresses(d));
  auto attempt = std::make_shared<std::function<void(std::size_t)>>();
  *attempt = [this, device, addresses, attempt](std::size_t i) {
    if (i >= addresses->size() || m_stopped) {
      asio::post(m_strand, [this, device, attempt] {
        *attempt = nullptr;  // break the cycle
        auto it = m_devices.find(device);
        if (it != m_devices.end()) it->second.dialing = false;
      });
      return;
    }
    auto parts = split_address((*addresses)[i]);
    if (!parts) return (*attempt)(i + 1);
    auto resolver = std::make_shared<tcp::resolver>(m_deps.io);
    resolver->async_resolve(
        parts->first, parts->second,
        [this, device, addresses, attempt, i, resolver](boost::system::error_code ec,
                                                        tcp::resolver::results_type r) {
          if (ec) return (*attempt)(i + 1);
          auto stream =
              std::make_shared<Connection::Stream>(tcp::socket(asio::make_strand(m_deps.io)), *m_client_tls);
          auto timer = std::make_shared<asio::steady_timer>(stream->get_executor());
          timer->expires_after(HANDSHAKE_TIMEOUT);
          timer->async_wait([stream](boost::system::error_code e) {
            if (!e) stream->lowest_layer().close(e);
          });
          asio::async_connect(
              stream->lowest_layer(), r,
              [this, device, attempt, i, stream, timer](boost::system::error_code e,
                                                        const tcp::endpoint& ep) {
                if (e) {
                  timer->cancel();
                  return (*attempt)(i + 1);
                }
                boost::system::error_code ignored;
                stream->lowest_layer().set_option(tcp::no_delay(true), ignored);
                const auto remote = endpoint_text(ep);
                stream->async_handshake(
                    asio::ssl::stream_base::client,
                    [this, device, attempt, i, stream, timer, remote](boost::system::error_code h) {
                      timer->cancel();
                      if (h) {
                        spdlog::debug("sync: TLS handshake with {} failed: {}", remote, h.message());
                        return (*attempt)(i + 1);
                      }
                      asio::post(m_strand, [this, device, attempt, stream, remote] {
                        *attempt = nullptr;
                        auto it = m_devices.find(device);
                        if (it != m_devices.end()) it->second.dialing = false;
                        secured(stream, remote, false, device);
                      });
                    });
              });
        });
  };
  (*attempt)(0);
}

void Engine::secured(std::shared_ptr<Connection::Stream> stream, std::string remote, bool incoming,
                     std::optional<std::string> expected) {
  if (m_stopped) return;
  auto der = crypto::bep_peer_certificate(stream->native_handle());
  boost::system::error_code ignored;
  if (!der) {
    spdlog::info("sync: refused {}: {}", remote, der.error().message);
    stream->lowest_layer().close(ignored);
    return;
  }
  const std::string device = bep::to_string(bep::device_id_of_cert(*der));
  if (expected && *expected != device) {
    spdlog::warn("sync: {} answered as device {}, not the {} dialled; closing", remote, device, *expected);
    stream->lowest_layer().close(ignored);
    return;
  }
  auto it = m_devices.find(device);
  if (it == m_devices.end()) {
    spdlog::info("sync: refused unknown device {} from {}: add it with `kith sync device add {}`", device,
                 remote, device);
    stream->lowest_layer().close(ignored);
    return;
  }
  if (it->second.conn) {
    spdlog::debug("sync: {} already connected; dropping the second connection from {}", short_text(device),
                  remote);
    stream->lowest_layer().close(ignored);
    return;
  }
  auto conn = std::make_shared<Connection>(m_strand, std::move(*stream), device, remote, incoming);
  bep::pb::Hello ours;
  ours.set_device_name(m_deps.device_name);
  ours.set_client_name("kith");
  ours.set_client_version("v" KITH_VERSION);
  conn->hello(ours, [this, conn](Result<bep::pb::Hello> theirs) {
    if (!theirs) {
      spdlog::info("sync: {} ({}): {}", short_text(conn->device()), conn->remote_address(),
                   theirs.error().message);
      return;
    }
    connected(conn, *theirs);
  });
}

void Engine::connected(std::shared_ptr<Connection> conn, const bep::pb::Hello& hello) {
  auto it = m_devices.find(conn->device());
  if (m_stopped || it == m_devices.end() || it->second.conn) {
    conn->close(m_stopped ? "shutting down" : "already connected");
    return;
  }
  Device& d = it->second;
  d.conn = conn;
  d.client =
      base::terminal_safe(hello.client_name().substr(0, 64) + " " + hello.client_version().substr(0, 64));
  d.folders.clear();
  d.last_cc.reset();
  if (d.record.name.empty() && !hello.device_name().empty())
    d.record.name = hello.device_name().substr(0, 64);
  spdlog::info("sync: connected to {} ({}, {}) at {}", short_text(conn->device()),
               base::terminal_safe(d.record.name), d.client, conn->remote_address());
  const std::string device = conn->device();
  const std::uint64_t serial = conn->serial();
  conn->start([this, device](bep::Message m) { on_message(device, std::move(m)); },
              [this, device, serial](const std::string& why) { disconnected(device, serial, why); });
  send_cluster_config(d);
  emit(event::DeviceConnected{view(d)});
}

void Engine::disconnected(const std::string& device, std::uint64_t serial, const std::string& why) {
  auto it = m_devices.find(device);
  if (it == m_devices.end() || !it->second.conn || it->second.conn->serial() != serial) return;
  Device& d = it->second;
  d.conn.reset();
  d.folders.clear();
  d.index_queue.clear();
  d.progress_sent.clear();  // what it was told, and what it told us, go with the connection
  d.progress_received = ReceivedProgress{};
  d.progress_warnings = 0;
  auto requests = std::move(d.requests);
  d.requests.clear();
  spdlog::info("sync: disconnected from {} ({}): {}", short_text(device), base::terminal_safe(d.record.name),
               why);
  for (auto& [id, done] : requests)
    done(fail(base::make_error_code(base::errc::unavailable),
              "device " + short_text(device) + " disconnected"));
  emit(event::DeviceDisconnected{device, d.record.name, why});
}

void Engine::send_cluster_config(Device& d) {
  bep::pb::ClusterConfig cc;
  const auto ours = bep::parse_device_id(m_device_id);
  const auto theirs = bep::parse_device_id(d.record.id);
  if (!ours || !theirs) return;
  for (const auto& [id, f] : m_folders) {
    if (!f.devices.count(d.record.id)) continue;
    auto* folder = cc.add_folders();
    folder->set_id(id);
    folder->set_label(f.record.label);
    folder->set_type(f.record.type == "sendonly"      ? bep::pb::FOLDER_TYPE_SEND_ONLY
                     : f.record.type == "receiveonly" ? bep::pb::FOLDER_TYPE_RECEIVE_ONLY
                                                      : bep::pb::FOLDER_TYPE_SEND_RECEIVE);
    if (f.record.paused) folder->set_stop_reason(bep::pb::FOLDER_STOP_REASON_PAUSED);
    auto* me = folder->add_devices();
    me->set_id(bep::to_bytes(*ours));
    me->set_name(m_deps.device_name);
    me->set_index_id(f.record.index_id);
    me->set_max_sequence(f.sequence);
    auto* them = folder->add_devices();
    them->set_id(bep::to_bytes(*theirs));
    them->set_name(d.record.name);
    auto known = f.remote.find(d.record.id);
    if (known != f.remote.end()) {
      them->set_index_id(known->second.remote_index_id);
      them->set_max_sequence(known->second.remote_max_sequence);
    }
  }
  d.conn->send(bep::pb::MESSAGE_TYPE_CLUSTER_CONFIG, cc);
}

void Engine::on_message(const std::string& device, bep::Message msg) {
  auto it = m_devices.find(device);
  if (it == m_devices.end() || !it->second.conn) return;
  Device& d = it->second;
  switch (msg.type) {
    case bep::pb::MESSAGE_TYPE_CLUSTER_CONFIG: {
      auto cc = bep::parse_body<bep::pb::ClusterConfig>(msg);
      if (!cc) {
        d.conn->close("malformed ClusterConfig");
        return;
      }
      d.last_cc = std::move(*cc);
      on_cluster_config(d, *d.last_cc);
      return;
    }
    case bep::pb::MESSAGE_TYPE_INDEX:
    case bep::pb::MESSAGE_TYPE_INDEX_UPDATE:
      d.index_queue.push_back(std::move(msg));
      // Backpressure: each message may be 64 MiB; while the index is stored, read no further than a
      // couple ahead (the peer's sends wait in TCP's buffers).
      if (d.index_queue.size() >= Device::MAX_QUEUED_INDEX_MESSAGES) d.conn->pause_reading();
      on_index(device);
      return;
    case bep::pb::MESSAGE_TYPE_REQUEST: {
      auto r = bep::parse_body<bep::pb::Request>(msg);
      if (!r) {
        d.conn->close("malformed Request");
        return;
      }
      on_request(d, *r);
      return;
    }
    case bep::pb::MESSAGE_TYPE_RESPONSE: {
      auto r = bep::parse_body<bep::pb::Response>(msg);
      if (!r) {
        d.conn->close("malformed Response");
        return;
      }
      on_response(d, std::move(*r));
      return;
    }
    case bep::pb::MESSAGE_TYPE_DOWNLOAD_PROGRESS:
      on_download_progress(d, msg);
      return;
    default:
      return;  // anything newer: not needed to sync
  }
}

void Engine::on_cluster_config(Device& d, const bep::pb::ClusterConfig& cc) {
  const auto ours = bep::parse_device_id(m_device_id);
  std::set<std::string> listed;
  for (const auto& folder : cc.folders()) {
    const std::string id = folder.id();
    listed.insert(id);
    auto f = m_folders.find(id);
    if (f == m_folders.end() || !f->second.devices.count(d.record.id)) {
      if (f != m_folders.end()) {
        spdlog::info("sync: {} shares folder {} which is not shared with it here: `kith sync share {} {}`",
                     short_text(d.record.id), base::terminal_safe(id.substr(0, 64)),
                     base::terminal_safe(id.substr(0, 64)), d.record.id);
        continue;
      }
      if (id.empty() || id.size() > 64 || m_pending.size() >= 256) continue;
      PendingFolder offer{id, folder.label().substr(0, 256), d.record.id, d.record.name};
      const bool is_new = !m_pending.count(id);
      m_pending[id] = offer;
      if (is_new) {
        spdlog::info("sync: {} offers folder {} ({}): `kith sync accept {} PATH` takes it",
                     short_text(d.record.id), base::terminal_safe(id), base::terminal_safe(offer.label),
                     base::terminal_safe(id));
        emit(event::FolderOffered{offer});
      }
      continue;
    }
    Peer& peer = d.folders[id];
    peer.shares = folder.stop_reason() != bep::pb::FOLDER_STOP_REASON_PAUSED;
    for (const auto& dev : folder.devices()) {
      auto parsed = bep::device_id_from_bytes(dev.id());
      if (!parsed) continue;
      const bep::DeviceId did = *parsed;
      if (ours && did == *ours) {
        // What it has of our index: go on from there, or send it all if our index is not the one it knows.
        if (!peer.index_started) {
          const bool same = dev.index_id() == f->second.record.index_id;
          peer.sent_up_to = same ? std::max<std::int64_t>(0, dev.max_sequence()) : 0;
          peer.sent_first = same && dev.max_sequence() > 0;
        }
      } else if (bep::to_string(did) == d.record.id) {
        const std::uint64_t their_index = dev.index_id();
        store::SyncShare& known = f->second.remote[d.record.id];
        if (their_index != known.remote_index_id) {
          // A new index on their side (reset or first contact): what we had of the old one is void.
          known = store::SyncShare{id, d.record.id, their_index, 0};
          asio::post(m_db, [this, folder = id, device = d.record.id, their_index] {
            (void)m_deps.store.drop_remote(folder, device);
            (void)m_deps.store.set_remote_index(folder, device, their_index, 0);
          });
        }
      }
    }
    if (peer.shares && !peer.index_started && !f->second.record.paused) {
      peer.index_started = true;
      send_index(d.record.id, id);
      pull(id);  // what we already hold of its index may be fetchable now that it is connected
    }
  }
  for (auto& [fid, peer] : d.folders)
    if (!listed.count(fid)) peer.shares = false;
}

void Engine::on_index(const std::string& device) {
  auto it = m_devices.find(device);
  if (it == m_devices.end()) return;
  Device& d = it->second;
  if (d.index_busy || d.index_queue.empty()) return;
  d.index_busy = true;
  bep::Message msg = std::move(d.index_queue.front());
  d.index_queue.erase(d.index_queue.begin());
  // Which folders it may send us entries for: those shared with it here.
  std::map<std::string, std::uint64_t> allowed;
  for (auto& [fid, f] : m_folders)
    if (f.devices.count(device)) allowed[fid] = f.remote[device].remote_index_id;
  asio::post(m_db, [this, device, msg = std::move(msg), allowed]() mutable {
    bep::pb::IndexUpdate index;  // Index and IndexUpdate share their first two fields
    std::string folder, problem;
    std::int64_t max_sequence = -1;
    std::size_t refused = 0;
    const bool parsed = index.ParseFromString(msg.body);
    std::string().swap(msg.body);  // up to 64 MiB: not held while the entries are checked and stored
    if (!parsed) {
      problem = "a malformed index message";
    } else if (!allowed.count(index.folder())) {
      problem = "an index for folder \"" + base::terminal_safe(index.folder().substr(0, 64)) +
                "\", which it does not share with us";
    } else {
      folder = index.folder();
      std::vector<store::SyncFile> files;
      files.reserve(static_cast<std::size_t>(index.files_size()));
      for (const auto& info : index.files()) {
        auto f = from_wire(info, folder, device);
        if (!f) {
          if (refused++ < 5)
            spdlog::warn("sync: {} refused from {}: {}", folder, short_text(device),
                         base::terminal_safe(f.error().message));
          continue;
        }
        max_sequence = std::max(max_sequence, f->sequence);
        files.push_back(std::move(*f));
      }
      bep::pb::IndexUpdate().Swap(&index);  // the parsed message too (Clear() would keep its blocks)
      if (auto ok = m_deps.store.put_remote(folder, device, files); !ok) problem = ok.error().message;
      if (max_sequence >= 0)
        (void)m_deps.store.set_remote_index(folder, device, allowed[folder], max_sequence);
      if (refused > 5)
        spdlog::warn("sync: {} refused {} entries from {} in all", folder, refused, short_text(device));
    }
    asio::post(m_strand, [this, device, folder, problem, max_sequence] {
      auto it = m_devices.find(device);
      if (it == m_devices.end()) return;
      it->second.index_busy = false;
      if (it->second.conn && it->second.index_queue.size() < Device::MAX_QUEUED_INDEX_MESSAGES)
        it->second.conn->resume_reading();
      if (!problem.empty()) {
        spdlog::warn("sync: {} sent {}; closing", short_text(device), problem);
        if (it->second.conn) it->second.conn->close("protocol error: " + problem);
        return;
      }
      auto f = m_folders.find(folder);
      if (f != m_folders.end() && max_sequence > f->second.remote[device].remote_max_sequence)
        f->second.remote[device].remote_max_sequence = max_sequence;
      pull(folder);
      on_index(device);
    });
  });
}

void Engine::announce(const std::string& folder) {
  for (auto& [id, d] : m_devices) {
    auto p = d.folders.find(folder);
    if (d.conn && p != d.folders.end() && p->second.index_started) send_index(id, folder);
  }
}

void Engine::send_index(const std::string& device, const std::string& folder) {
  auto it = m_devices.find(device);
  if (it == m_devices.end() || !it->second.conn) return;
  Peer& peer = it->second.folders[folder];
  if (peer.sending) {
    peer.more = true;
    return;
  }
  peer.sending = true;
  peer.more = false;
  const std::uint64_t serial = it->second.conn->serial();
  asio::post(m_db, [this, device, folder, serial, after = peer.sent_up_to, first = !peer.sent_first] {
    auto batch = m_deps.store.since(folder, "", after, INDEX_BATCH_FILES, INDEX_BATCH_BLOCKS);
    bep::pb::IndexUpdate update;
    update.set_folder(folder);
    std::int64_t last = after;
    if (batch)
      for (const auto& f : *batch) {
        *update.add_files() = to_wire(f);
        last = f.sequence;
      }
    // Not the last batch if it stopped at a limit: asking again with nothing left costs one query.
    const bool full = batch && !batch->empty();
    asio::post(m_strand,
               [this, device, folder, serial, first, last, full, update = std::move(update)]() mutable {
                 auto it = m_devices.find(device);
                 if (it == m_devices.end() || !it->second.conn || it->second.conn->serial() != serial) return;
                 Peer& peer = it->second.folders[folder];
                 peer.sending = false;
                 if (first) {
                   bep::pb::Index index;
                   index.set_folder(folder);
                   *index.mutable_files() = std::move(*update.mutable_files());
                   it->second.conn->send(bep::pb::MESSAGE_TYPE_INDEX, index);
                   peer.sent_first = true;
                 } else if (update.files_size() > 0) {
                   it->second.conn->send(bep::pb::MESSAGE_TYPE_INDEX_UPDATE, update);
                 }
                 peer.sent_up_to = last;
                 if (full || peer.more) send_index(device, folder);
               });
  });
}

void Engine::on_request(Device& d, const bep::pb::Request& r) {
  auto conn = d.conn;
  auto answer = [conn, id = r.id()](bep::pb::ErrorCode code, std::string data = {}) {
    bep::pb::Response out;
    out.set_id(id);
    out.set_code(code);
    if (!data.empty()) out.set_data(std::move(data));
    conn->send(bep::pb::MESSAGE_TYPE_RESPONSE, out);
  };
  auto f = m_folders.find(r.folder());
  if (f == m_folders.end() || !f->second.devices.count(d.record.id) || f->second.record.paused)
    return answer(bep::pb::ERROR_CODE_NO_SUCH_FILE);
  if (!check_name(r.name()) || r.size() <= 0 || r.size() > (16 << 20) || r.offset() < 0) {
    spdlog::debug("sync: {} asked for an invalid range of \"{}\"", short_text(d.record.id),
                  base::terminal_safe(r.name().substr(0, 200)));
    return answer(bep::pb::ERROR_CODE_INVALID_FILE);
  }
  // From the file in place (on a worker): it must be in our index, and the bytes still what it says.
  auto from_file = [this, answer, folder = r.folder(), root = f->second.record.path, name = r.name(),
                    offset = r.offset(), size = r.size(), hash = r.hash()] {
    auto rec = m_deps.store.file(folder, "", name, store::Blocks::without);  // every block request
    if (!rec || !*rec || (*rec)->deleted || (*rec)->invalid || (*rec)->type != 0)
      return answer(bep::pb::ERROR_CODE_NO_SUCH_FILE);
    if (offset + size > (*rec)->size) {
      spdlog::debug("sync: a request for {} bytes at {} of {} is past its end", size, offset,
                    base::terminal_safe(name));
      return answer(bep::pb::ERROR_CODE_INVALID_FILE);
    }
    // Opened component by component without following symlinks: never a file outside the folder.
    auto dir = open_root(root);
    auto file = dir ? open_beneath(dir->get(), name, O_RDONLY) : tl::unexpected(dir.error());
    std::string data(static_cast<std::size_t>(size), '\0');
    if (!file || ::pread(file->get(), data.data(), data.size(), offset) != size)
      return answer(bep::pb::ERROR_CODE_NO_SUCH_FILE);
    if (hash.size() == 32) {
      const auto h = crypto::sha256(data);
      if (std::memcmp(h.data(), hash.data(), h.size()) != 0) {
        spdlog::info("sync: {} changed since it was scanned (a block no longer has its hash); rescanning",
                     base::terminal_safe(name));
        asio::post(m_strand, [this, folder] { scan(folder); });
        return answer(bep::pb::ERROR_CODE_INVALID_FILE);
      }
    }
    answer(bep::pb::ERROR_CODE_NO_ERROR, std::move(data));
  };
  if (!r.from_temporary()) {
    asio::post(m_deps.workers, from_file);
    return;
  }
  // From the temporary file of a file being pulled here (it told us, by DownloadProgress, which blocks are
  // there): only a block written and checked, and only if it still has the SHA-256 asked for. Not being
  // pulled, or not there yet: no such file (as Syncthing answers when it has no temporary file).
  auto temp = temp_block(f->second, r.name(), r.offset(), r.size(), r.hash());
  if (!temp) return answer(bep::pb::ERROR_CODE_NO_SUCH_FILE);
  asio::post(m_deps.workers, [answer, from_file, root = f->second.record.path, temp = std::move(*temp),
                              offset = r.offset(), size = r.size(), hash = r.hash()] {
    // Opened component by component without following symlinks, as the file in place.
    auto dir = open_root(root);
    auto file = dir ? open_beneath(dir->get(), temp, O_RDONLY) : tl::unexpected(dir.error());
    std::string data(static_cast<std::size_t>(size), '\0');
    if (file && ::pread(file->get(), data.data(), data.size(), offset) == size) {
      const auto h = crypto::sha256(data);
      if (hash.size() == h.size() && std::memcmp(h.data(), hash.data(), h.size()) == 0)
        return answer(bep::pb::ERROR_CODE_NO_ERROR, std::move(data));
    }
    // Gone meanwhile (renamed into place, held back) or not those bytes: the file in place may have
    // them (Syncthing falls through the same way).
    from_file();
  });
}

void Engine::on_response(Device& d, bep::pb::Response r) {
  auto it = d.requests.find(r.id());
  if (it == d.requests.end()) return;  // answered after we gave up on it
  auto done = std::move(it->second);
  d.requests.erase(it);
  if (r.code() != bep::pb::ERROR_CODE_NO_ERROR)
    return done(fail(base::make_error_code(base::errc::not_found),
                     "device " + short_text(d.record.id) + " answered error " + std::to_string(r.code())));
  done(std::move(*r.mutable_data()));
}

DeviceView Engine::view(const Device& d) const {
  DeviceView v;
  v.id = d.record.id;
  v.name = d.record.name;
  v.addresses = d.record.addresses;
  v.discovered = discovered(d.record.id);
  v.connected = d.conn != nullptr;
  if (d.conn) v.address = d.conn->remote_address();
  v.client = d.client;
  v.contact = d.record.contact;
  for (const auto& [id, f] : m_folders)
    if (f.devices.count(d.record.id)) v.folders.push_back(id);
  return v;
}

}  // namespace kith::sync
