// SyncService's file versioning methods: each posts to the engine's strand (engine_versions.cpp).
#include <boost/asio/post.hpp>

#include "sync/engine.hpp"
#include "sync/sync_service.hpp"

namespace kith::sync {
namespace asio = boost::asio;

void SyncService::set_versioning(std::string folder, Versioning versioning,
                                 base::Done<Result<FolderView>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder), v = std::move(versioning),
                                  done = std::move(done)]() mutable {
    e->set_versioning(folder, std::move(v), std::move(done));
  });
}

void SyncService::versions(std::string folder, std::optional<std::string> name,
                           base::Done<Result<std::vector<KeptVersion>>> done) {
  asio::post(m_engine->m_strand,
             [e = m_engine.get(), folder = std::move(folder), name = std::move(name),
              done = std::move(done)]() mutable { e->versions(folder, std::move(name), std::move(done)); });
}

void SyncService::restore(std::string folder, std::string name, std::optional<std::string> tag,
                          base::Done<Result<KeptVersion>> done) {
  asio::post(m_engine->m_strand, [e = m_engine.get(), folder = std::move(folder), name = std::move(name),
                                  tag = std::move(tag), done = std::move(done)]() mutable {
    e->restore(folder, std::move(name), std::move(tag), std::move(done));
  });
}

}  // namespace kith::sync
