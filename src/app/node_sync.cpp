// Folder sync in the node (docs/architecture.md § Services): the daemon starts sync::SyncService with the
// device key (its BEP certificate is the node's Syncthing device ID), the index in state.sqlite, and the
// same scanner and quarantine as downloads. Releases and deletions of quarantine items are dispatched
// here too, by who held the item back.
#include <spdlog/spdlog.h>

#include "app/node.hpp"
#include "base/endpoint.hpp"
#include "messaging/messenger.hpp"
#include "sync/blocks.hpp"
#include "sync/sync_service.hpp"

namespace kith::app {

Status Node::start_sync(const std::string& device_name) {
  const auto settings = m_settings.current();
  auto listen = base::parse_ip_port(settings->get_string("sync.listen"), base::PortRule::allow_zero);
  if (!listen) return tl::unexpected(listen.error());
  // The store keeps each entry's blocks hash (Syncthing's), so pull planning compares content without
  // reading block lists.
  m_sync_store = std::make_unique<store::SyncStore>(*m_db, sync::blocks_hash);
  auto service = sync::SyncService::start(sync::SyncService::Deps{
      .io = m_io,
      .workers = m_workers,
      .scans = m_scans,
      .store = *m_sync_store,
      .quarantine = *m_quarantine,
      .quarantine_dir = m_home.quarantine_dir(),
      .inspector = m_inspector,
      .device_key = *m_device_key,
      .device_name = device_name,
      .listen_host = listen->host,
      .port = listen->port,
      .rescan_interval_s = static_cast<int>(settings->get_int("sync.rescan_interval_s")),
      .watch = settings->get_bool("sync.watch"),
      .progress_interval_s = static_cast<int>(settings->get_int("sync.progress_interval_s")),
      .min_disk_free_percent = static_cast<int>(settings->get_int("sync.min_disk_free_percent")),
      .local_discovery = settings->get_bool("sync.local_discovery"),
      .local_discovery_port = static_cast<std::uint16_t>(settings->get_int("sync.local_discovery_port")),
      .sink = m_sync_sink});
  if (!service) return tl::unexpected(service.error());
  m_sync = std::move(*service);
  // Contacts learn this node's sync device from its Hello and it learns theirs (docs/sync.md
  // § Contacts): a contact's device is trusted with no `kith sync device add`.
  m_messenger->set_sync_device(m_sync->device_id(), m_sync->port(),
                               [sync = m_sync.get()](messaging::Messenger::ContactSyncDevice c) {
                                 sync->contact_device(std::move(c.contact_id), std::move(c.contact_name),
                                                      std::move(c.device), std::move(c.addresses));
                               });
  return {};
}

Result<sync::SyncService*> Node::require_sync() {
  if (m_sync) return m_sync.get();
  return fail(base::make_error_code(base::errc::unavailable),
              "folder sync runs in the daemon: start it with `kith daemon`");
}

// The quarantine holds downloads (ReleasePipeline's, id = the transfer's) and files folder sync held
// back (the sync service's, `sync-<16 hex>`). The API and the CLI have one set of quarantine routes, so
// the two are told apart here, where both services are known: the pipeline resolves a prefix to the
// full id (it lists every record), and the id says whose item it is. Each service then acts on its
// own strand and answers there; nothing here holds state.
namespace {
bool held_by_sync(const store::QuarantineRecord& rec) { return rec.id.rfind("sync-", 0) == 0; }
}  // namespace

void Node::quarantine_show(std::string id, base::Done<Result<QuarantineItem>> done) {
  m_pipeline->quarantine_show(std::move(id),
                              [this, done = std::move(done)](Result<QuarantineItem> item) mutable {
                                // A held synced file is in its own directory under the quarantine
                                // (sync/engine_held.cpp).
                                if (item && held_by_sync(item->record) && item->record.state == "held")
                                  item->location = (m_home.quarantine_dir() / item->record.id).string();
                                done(std::move(item));
                              });
}

void Node::quarantine_release(std::string id, base::Done<Status> done) {
  m_pipeline->resolve_quarantine(std::move(id), [this, done = std::move(done)](
                                                    Result<store::QuarantineRecord> rec) mutable {
    if (!rec) return done(tl::unexpected(rec.error()));
    if (!held_by_sync(*rec)) return m_pipeline->quarantine_release(rec->id, std::move(done));
    auto sync = require_sync();
    if (!sync)
      return done(
          fail(base::make_error_code(base::errc::unavailable),
               "quarantine item " + rec->id + " is a file folder sync held back; " + sync.error().message));
    (*sync)->release_held(rec->id, [this, id = rec->id, done = std::move(done)](Result<std::string> path) {
      if (!path) return done(tl::unexpected(path.error()));
      m_service_sink(event::QuarantineReleased{id, *path});
      done(Status{});
    });
  });
}

void Node::quarantine_delete(std::string id, base::Done<Status> done) {
  m_pipeline->resolve_quarantine(
      std::move(id), [this, done = std::move(done)](Result<store::QuarantineRecord> rec) mutable {
        if (!rec) return done(tl::unexpected(rec.error()));
        if (!held_by_sync(*rec)) return m_pipeline->quarantine_delete(rec->id, std::move(done));
        auto sync = require_sync();
        if (!sync)
          return done(fail(
              base::make_error_code(base::errc::unavailable),
              "quarantine item " + rec->id + " is a file folder sync held back; " + sync.error().message));
        (*sync)->delete_held(rec->id, [this, id = rec->id, done = std::move(done)](Status ok) {
          if (ok) m_service_sink(event::QuarantineDeleted{id});
          done(std::move(ok));
        });
      });
}

}  // namespace kith::app
