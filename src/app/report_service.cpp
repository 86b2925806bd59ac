#include "app/report_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/release_pipeline.hpp"
#include "app/transfer_service.hpp"
#include "base/clock.hpp"
#include "base/fs.hpp"
#include "crypto/hash.hpp"

namespace kith::app {

void ReportService::report(std::string id, std::string reason, base::Done<Result<ReportWritten>> done) {
  m_deps.pipeline.resolve_quarantine(id, [this, id, reason = std::move(reason),
                                          done = std::move(done)](Result<store::QuarantineRecord> q) mutable {
    const std::string full = q ? q->id : id;
    std::optional<store::QuarantineRecord> item;
    if (q) item = *q;
    m_deps.transfers.show(full, [this, full, item = std::move(item), reason = std::move(reason),
                                 done = std::move(done)](Result<Transfer> t) mutable {
      if (!t && !item) return done(tl::unexpected(t.error()));
      std::optional<Transfer> transfer;
      if (t) transfer = std::move(*t);
      const auto id = transfer ? transfer->status.id : full;
      write(id, std::move(item), std::move(transfer), std::move(reason), std::move(done));
    });
  });
}

void ReportService::write(std::string full, std::optional<store::QuarantineRecord> q,
                          std::optional<Transfer> transfer, std::string reason,
                          base::Done<Result<ReportWritten>> done) {
  auto sources = m_deps.swarm.sources(full);
  const bool syslog = m_deps.settings.current()->get_bool("safety.report_syslog");
  // Hashing every file of the download: the pool.
  boost::asio::post(m_deps.workers, [this, full = std::move(full), q = std::move(q),
                                     transfer = std::move(transfer), reason = std::move(reason),
                                     sources = std::move(sources), syslog, done = std::move(done)]() mutable {
    safety::Report r;
    const auto now = base::unix_seconds();
    r.id = base::compact_utc(now) + "-" + full.substr(0, 8);
    r.created_at = base::rfc3339_utc(now);
    r.reason = reason;
    r.transfer_id = full;
    r.reporter_node = m_deps.node_id;
    const store::TransferRecord rec = transfer ? transfer->record : store::TransferRecord{};
    r.name = q ? q->name : rec.name;
    r.link = q ? q->source : rec.source;
    r.outcome = q ? q->outcome : (rec.kind == "get" && rec.released ? "clean" : "not_scanned");
    r.signature = q ? q->signature : "";
    auto peers = q ? nlohmann::json::parse(q->peers, nullptr, false) : nlohmann::json::array();
    if (!q)
      for (const auto& p : sources) peers.push_back({{"endpoint", p.endpoint}, {"client", p.client}});
    if (peers.is_array())
      for (const auto& p : peers)
        if (p.is_object()) r.peers.push_back(p.value("endpoint", "") + " (" + p.value("client", "") + ")");
    if (transfer) {
      const auto& st = transfer->status;
      if (!st.hashes.v1.empty()) r.info_hashes.push_back("v1:" + st.hashes.v1);
      if (!st.hashes.v2.empty()) r.info_hashes.push_back("v2:" + st.hashes.v2);
      for (const auto& f : transfer->files) {
        if (!f.wanted) continue;
        auto sha = crypto::sha256_file(std::filesystem::path(st.save_path) / f.path);
        if (!sha) continue;  // not on disk (yet): nothing to hash
        r.files.push_back({f.path, static_cast<std::uint64_t>(f.size), *sha});
      }
    } else {
      r.info_hashes.push_back((full.size() == 40 ? "v1:" : "v2:") + full);
    }
    auto path = safety::write_report(r, m_deps.home.reports_dir());
    if (!path) return done(tl::unexpected(path.error()));
    if (syslog) safety::send_to_syslog(r);
    spdlog::warn("{}: reported: {} ({})", full, reason, path->string());
    if (m_deps.sink) m_deps.sink(event::ReportCreated{r.id, full, path->string()});
    done(ReportWritten{std::move(r), path->string()});
  });
}

void ReportService::list(base::Done<std::vector<ListedReport>> done) {
  boost::asio::post(m_deps.workers, [this, done = std::move(done)] {
    std::vector<ListedReport> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(m_deps.home.reports_dir(), ec)) {
      if (entry.path().extension() != ".json") continue;
      auto text = base::read_file(entry.path(), 4u << 20);
      auto r = text ? safety::parse_report(*text) : Result<safety::Report>(tl::unexpected(text.error()));
      if (!r) {
        spdlog::warn("skipping {}: {}", entry.path().string(), r.error().message);
        continue;
      }
      out.push_back({std::move(*r), entry.path().string()});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.report.id > b.report.id; });
    done(std::move(out));
  });
}

}  // namespace kith::app
