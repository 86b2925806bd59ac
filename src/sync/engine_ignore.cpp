// The engine's view of a folder's ignore patterns (`kith sync ignores`, GET .../ignores): the file is
// read on the worker pool, as a scan reads it, so what is shown is what the next scan will use.
#include <boost/asio/post.hpp>

#include "sync/engine.hpp"
#include "sync/errors.hpp"

namespace kith::sync {
namespace asio = boost::asio;

void Engine::ignores(const std::string& folder, base::Done<Result<IgnoresView>> done) {
  auto it = m_folders.find(folder);
  if (it == m_folders.end())
    return done(fail(make_error_code(errc::unknown_folder), "no folder " + folder + " (see kith sync list)"));
  asio::post(m_deps.workers, [this, folder, root = it->second.record.path, done = std::move(done)]() mutable {
    IgnoresView v;
    v.folder = folder;
    auto loaded = load_ignores(root);
    if (loaded) {
      v.lines = loaded->lines();
      v.patterns = loaded->patterns();
    } else {
      v.error = loaded.error().message;
    }
    asio::post(m_strand, [v = std::move(v), done = std::move(done)]() mutable { done(std::move(v)); });
  });
}

void Engine::ignores_failed(Folder& f, const Error& e) {
  set_state(f, "error",
            "the ignore patterns cannot be used, so this folder is not scanned or pulled: " + e.message +
                "; fix the file (kith reads it again when it changes)");
  watch(f);  // the folder itself is fine: a fix to .stignore is seen at once
}

}  // namespace kith::sync
