// Files the puller placed go into the index in batches. One transaction per file made 10,000 small
// files cost 10,000 commits (each a WAL write and its statements); here whatever piles up on m_db while
// one transaction runs is written by the next, so a single file is stored at once and a burst in few
// transactions. Everything in this file runs on m_db; the results go back to m_strand.
#include <boost/asio/post.hpp>

#include "sync/engine.hpp"

namespace kith::sync {
namespace asio = boost::asio;

void Engine::store_placed(const std::string& folder, store::SyncFile file,
                          std::function<void(Result<store::SyncFile>)> done) {
  m_puts[folder].push_back(PlacedFile{std::move(file), std::move(done)});
  if (m_put_scheduled) return;
  m_put_scheduled = true;
  asio::post(m_db, [this] { flush_placed(); });
}

void Engine::flush_placed() {
  m_put_scheduled = false;
  auto puts = std::exchange(m_puts, {});
  for (auto& [folder, placed] : puts) {
    std::vector<store::SyncFile> files;
    files.reserve(placed.size());
    for (auto& p : placed) files.push_back(std::move(p.file));
    auto stored = m_deps.store.put_local(folder, std::move(files));
    asio::post(m_strand, [placed = std::move(placed), stored = std::move(stored)]() mutable {
      for (std::size_t i = 0; i < placed.size(); ++i) {
        if (!stored)
          placed[i].done(tl::unexpected(stored.error()));
        else
          placed[i].done(std::move((*stored)[i]));
      }
    });
  }
}

}  // namespace kith::sync
