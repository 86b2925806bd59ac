// The engine's versioning half (docs/sync.md § Versioning): a folder's policy changed, its kept versions
// listed and restored, and .stversions cleaned by the policy every hour. The strand only keeps the
// state; every look at the disk runs on the worker pool (pulls archive there too, in file_ops.cpp).
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "base/clock.hpp"
#include "sync/engine.hpp"
#include "sync/errors.hpp"
#include "sync/names.hpp"
#include "sync/version_fs.hpp"

namespace kith::sync {
namespace asio = boost::asio;

namespace {
constexpr int CLEAN_EVERY_S = 60 * 60;  // Syncthing's staggered cleanInterval default

Error no_folder(const std::string& id) {
  return Error{make_error_code(errc::unknown_folder), "no folder " + id};
}
}  // namespace

void Engine::set_versioning(const std::string& folder, Versioning v, base::Done<Result<FolderView>> done) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end()) return done(tl::unexpected(no_folder(folder)));
  if (auto ok = check_versioning(v); !ok) return done(tl::unexpected(ok.error()));
  // Pulls already under way keep the policy they started with (FileJob); the next ones take this one.
  it->second.record.versioning = std::move(v);
  asio::post(m_db, [this, rec = it->second.record, done = std::move(done)]() mutable {
    auto ok = m_deps.store.put_folder(rec);
    asio::post(m_strand, [this, id = rec.id, ok, done = std::move(done)]() mutable {
      if (!ok) return done(tl::unexpected(ok.error()));
      auto f = m_folders.find(id);
      if (f == m_folders.end()) return done(tl::unexpected(no_folder(id)));
      emit(event::FolderChanged{view(f->second)});
      done(view(f->second));
    });
  });
}

void Engine::versions(const std::string& folder, std::optional<std::string> name,
                      base::Done<Result<std::vector<KeptVersion>>> done) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end()) return done(tl::unexpected(no_folder(folder)));
  if (name)
    if (auto ok = check_name(*name); !ok) return done(tl::unexpected(ok.error()));
  asio::post(m_deps.workers,
             [this, root = it->second.record.path, name = std::move(name), done = std::move(done)]() mutable {
               auto list = list_versions(root, name);
               asio::post(m_strand, [list = std::move(list), done = std::move(done)]() mutable {
                 done(std::move(list));
               });
             });
}

void Engine::restore(const std::string& folder, std::string name, std::optional<std::string> tag,
                     base::Done<Result<KeptVersion>> done) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end()) return done(tl::unexpected(no_folder(folder)));
  if (auto ok = check_name(name); !ok) return done(tl::unexpected(ok.error()));
  if (tag && !parse_version_tag(*tag))
    return done(fail(base::make_error_code(base::errc::bad_input),
                     "a version is YYYYMMDD-HHMMSS, as `kith sync versions` lists them"));
  asio::post(m_deps.workers, [this, folder, root = it->second.record.path, v = it->second.record.versioning,
                              name = std::move(name), tag = std::move(tag),
                              done = std::move(done)]() mutable {
    auto restored = restore_version(root, name, tag, v, base::unix_seconds());
    asio::post(m_strand, [this, folder, restored = std::move(restored), done = std::move(done)]() mutable {
      // The file is back on disk; the scan makes it this node's newest version and announces it.
      if (restored) {
        spdlog::info("sync: folder {}: restored {}", folder, restored->path);
        scan(folder);
      }
      done(std::move(restored));
    });
  });
}

void Engine::arm_versions_cleanup(int seconds) {
  if (m_stopped) return;
  if (!m_versions_timer) m_versions_timer = std::make_unique<asio::steady_timer>(m_strand);
  m_versions_timer->expires_after(std::chrono::seconds(seconds));
  m_versions_timer->async_wait([this](boost::system::error_code ec) {
    if (ec || m_stopped) return;
    for (const auto& [id, f] : m_folders) {
      if (f.record.versioning.type == "none" || f.record.paused) continue;
      asio::post(m_deps.workers, [id = id, root = f.record.path, v = f.record.versioning] {
        auto removed = clean_versions(root, v, base::unix_seconds());
        if (!removed)
          spdlog::info("sync: folder {}: cleaning .stversions: {}", id, removed.error().message);
        else if (*removed > 0)
          spdlog::info("sync: folder {}: {} old version(s) let go ({})", id, *removed, v.type);
      });
    }
    arm_versions_cleanup(CLEAN_EVERY_S);
  });
}

}  // namespace kith::sync
