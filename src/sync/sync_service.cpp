#include "sync/sync_service.hpp"

#include <boost/asio/post.hpp>

#include "sync/engine.hpp"
#include "sync/errors.hpp"
#include "sync/names.hpp"

namespace kith::sync {
namespace asio = boost::asio;

SyncService::SyncService(std::unique_ptr<Engine> engine) : m_engine(std::move(engine)) {}
SyncService::~SyncService() = default;

Result<std::unique_ptr<SyncService>> SyncService::start(Deps deps) {
  auto engine = std::make_unique<Engine>(std::move(deps));
  if (auto ok = engine->start(); !ok) return tl::unexpected(ok.error());
  return std::unique_ptr<SyncService>(new SyncService(std::move(engine)));
}

void SyncService::stop() { m_engine->stop(); }
const std::string& SyncService::device_id() const { return m_engine->m_device_id; }
std::uint16_t SyncService::port() const { return m_engine->m_port; }

void SyncService::add_folder(FolderSpec spec, base::Done<Result<FolderView>> done) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), spec = std::move(spec), done = std::move(done)]() mutable {
               e->add_folder(std::move(spec), std::move(done));
             });
}

void SyncService::remove_folder(std::string id, base::Done<Status> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), done = std::move(done)]() mutable {
    e->remove_folder(id, std::move(done));
  });
}

void SyncService::share(std::string folder, std::string device, base::Done<Status> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder), device = std::move(device),
                                  done = std::move(done)]() mutable {
    auto id = e->normalise_device(device);
    if (!id) return done(tl::unexpected(id.error()));
    e->share(folder, *id, std::move(done));
  });
}

void SyncService::unshare(std::string folder, std::string device, base::Done<Status> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder), device = std::move(device),
                                  done = std::move(done)]() mutable {
    auto id = e->normalise_device(device);
    if (!id) return done(tl::unexpected(id.error()));
    e->unshare(folder, *id, std::move(done));
  });
}

void SyncService::release_held(std::string quarantine_id, base::Done<Result<std::string>> done) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), id = std::move(quarantine_id), done = std::move(done)]() mutable {
               e->release_held(id, std::move(done));
             });
}

void SyncService::delete_held(std::string quarantine_id, base::Done<Status> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(quarantine_id),
                                  done = std::move(done)]() mutable { e->delete_held(id, std::move(done)); });
}

void SyncService::pause(std::string folder, bool paused, base::Done<Status> done) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), folder = std::move(folder), paused, done = std::move(done)]() mutable {
               e->pause(folder, paused, std::move(done));
             });
}

void SyncService::rescan(std::string folder, base::Done<Status> done) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), folder = std::move(folder), done = std::move(done)]() mutable {
               if (!e->m_folders.count(folder))
                 return done(fail(errc::unknown_folder, "no folder " + folder));
               e->scan(folder);
               done({});
             });
}

void SyncService::ignores(std::string folder, base::Done<Result<IgnoresView>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder),
                                  done = std::move(done)]() mutable { e->ignores(folder, std::move(done)); });
}

void SyncService::folders(base::Done<Result<std::vector<FolderView>>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), done = std::move(done)]() mutable {
    std::vector<FolderView> out;
    for (const auto& [id, f] : e->m_folders) out.push_back(e->view(f));
    done(std::move(out));
  });
}

void SyncService::folder(std::string id, base::Done<Result<FolderView>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), done = std::move(done)]() mutable {
    auto it = e->m_folders.find(id);
    if (it == e->m_folders.end()) return done(fail(errc::unknown_folder, "no folder " + id));
    done(e->view(it->second));
  });
}

void SyncService::conflicts(std::string id, base::Done<Result<std::vector<ConflictView>>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), done = std::move(done)]() mutable {
    if (!e->m_folders.count(id)) return done(fail(errc::unknown_folder, "no folder " + id));
    // The index, not the disk: what the last scan saw (a copy made since shows after the next one).
    asio::post(e->m_db, [e, id, done = std::move(done)]() mutable {
      Result<std::vector<ConflictView>> out = std::vector<ConflictView>{};
      if (auto files = e->m_deps.store.files(id, "", store::Blocks::without); !files) {
        out = tl::unexpected(files.error());
      } else {
        for (const auto& f : *files) {
          if (f.deleted || f.invalid || f.type != 0) continue;  // files only
          auto copy = parse_conflict_name(f.name);
          if (!copy) continue;
          out->push_back(
              ConflictView{f.name, copy->original, copy->stamp, copy->device, f.size, f.modified_s});
        }
      }
      asio::post(e->m_strand,
                 [out = std::move(out), done = std::move(done)]() mutable { done(std::move(out)); });
    });
  });
}

void SyncService::changes(std::string id, base::Done<Result<std::vector<ChangeView>>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), done = std::move(done)]() mutable {
    auto it = e->m_folders.find(id);
    if (it == e->m_folders.end()) return done(fail(errc::unknown_folder, "no folder " + id));
    auto out = it->second.changes.list();
    for (auto& c : out) {  // names as known now (a device may have been named or removed since)
      if (c.device == e->m_device_id) {
        c.device_name = e->m_deps.device_name;
      } else if (auto d = e->m_devices.find(c.device); d != e->m_devices.end()) {
        c.device_name = d->second.record.name;
      }
    }
    done(std::move(out));
  });
}

void SyncService::add_device(std::string id, std::vector<std::string> addresses, std::string name,
                             base::Done<Result<DeviceView>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), addresses = std::move(addresses),
                                  name = std::move(name), done = std::move(done)]() mutable {
    e->add_device(id, std::move(addresses), std::move(name), std::move(done));
  });
}

void SyncService::remove_device(std::string id, base::Done<Status> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), id = std::move(id), done = std::move(done)]() mutable {
    e->remove_device(id, std::move(done));
  });
}

void SyncService::devices(base::Done<Result<std::vector<DeviceView>>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), done = std::move(done)]() mutable {
    std::vector<DeviceView> out;
    for (const auto& [id, d] : e->m_devices) out.push_back(e->view(d));
    done(std::move(out));
  });
}

void SyncService::contact_device(std::string contact, std::string name, std::string device,
                                 std::vector<std::string> addresses) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), contact = std::move(contact), name = std::move(name),
                                  device = std::move(device), addresses = std::move(addresses)]() mutable {
    e->contact_device(contact, name, device, std::move(addresses));
  });
}

void SyncService::forget_contact(std::string contact) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), contact = std::move(contact)] { e->forget_contact(contact); });
}

void SyncService::pending(base::Done<std::vector<PendingFolder>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), done = std::move(done)]() mutable {
    std::vector<PendingFolder> out;
    for (const auto& [id, p] : e->m_pending) out.push_back(p);
    done(std::move(out));
  });
}

void SyncService::accept(std::string folder, std::string path, base::Done<Result<FolderView>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder), path = std::move(path),
                                  done = std::move(done)]() mutable {
    auto it = e->m_pending.find(folder);
    if (it == e->m_pending.end())
      return done(fail(errc::not_offered,
                       "no device offered a folder " + folder + " (`kith sync pending` lists offers)"));
    FolderSpec spec;
    spec.id = folder;
    spec.path = path;
    spec.label = it->second.label;
    spec.devices = {it->second.device};
    e->add_folder(std::move(spec), std::move(done));
  });
}

}  // namespace kith::sync
