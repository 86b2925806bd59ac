#pragma once
// Reports for network administrators (`kith report`, docs/safety.md): what arrived, from where, what the
// scanner said, and why the user reports it. Writing one hashes every file of the download, so it runs
// on the worker pool; this service keeps no state of its own (no strand): it asks the release
// pipeline and the transfer service, then hands the slow part to the pool. Its completions therefore run
// on a worker thread (callers post onward, as api's await does).
#include <boost/asio/thread_pool.hpp>
#include <string>
#include <vector>

#include "app/events.hpp"
#include "app/home.hpp"
#include "app/model.hpp"
#include "app/settings_store.hpp"
#include "base/async.hpp"
#include "swarm/session_host.hpp"

namespace kith::app {

class ReleasePipeline;
class TransferService;

struct ListedReport {
  safety::Report report;
  std::string path;
};

class ReportService {
 public:
  struct Deps {
    boost::asio::thread_pool& workers;
    Home home;
    const SettingsStore& settings;
    swarm::SessionHost& swarm;
    TransferService& transfers;
    ReleasePipeline& pipeline;
    std::string node_id;
    EventSink sink;
  };
  explicit ReportService(Deps deps) : m_deps(std::move(deps)) {}

  // About a quarantine item (also one already deleted), else any transfer the node has (ids may be
  // unique prefixes). Writes HOME/reports/<time>-<id8>.json, and to syslog with safety.report_syslog.
  void report(std::string id, std::string reason, base::Done<Result<ReportWritten>> done);
  // Reports in HOME/reports/, newest first (unreadable files are skipped with a log line).
  void list(base::Done<std::vector<ListedReport>> done);

 private:
  void write(std::string full, std::optional<store::QuarantineRecord> q, std::optional<Transfer> transfer,
             std::string reason, base::Done<Result<ReportWritten>> done);

  Deps m_deps;
};

}  // namespace kith::app
