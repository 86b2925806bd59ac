#include "app/transfer_json.hpp"

namespace kith::app {

nlohmann::json to_json(const swarm::TransferStatus& st, const store::TransferRecord& rec,
                       const ReleaseState& release) {
  // The user-facing state adds kith's release steps to libtorrent's states: a download is only
  // "completed" once it was scanned clean and left staging; "quarantined" wins over "paused" (a
  // quarantined transfer is paused so it does not spread what it holds).
  std::string state = st.state;
  std::string error = st.error;
  if (rec.kind == "get") {
    if (release.quarantined)
      state = "quarantined";
    else if (state != "error" && state != "paused") {
      if (release.scanning)
        state = "scanning";
      else if (release.moving)
        state = "releasing";
      else if (!release.error.empty())
        state = "held";
      else if (rec.released)
        state = state == "seeding" || state == "finished" ? "completed" : state;
    }
  }
  if (!release.error.empty() && error.empty()) error = release.error;
  auto runnable = nlohmann::json::parse(rec.runnable.empty() ? "[]" : rec.runnable, nullptr, false);
  if (!runnable.is_array()) runnable = nlohmann::json::array();
  nlohmann::json info_hashes = nlohmann::json::object();
  if (!st.hashes.v1.empty()) info_hashes["v1"] = st.hashes.v1;
  if (!st.hashes.v2.empty()) info_hashes["v2"] = st.hashes.v2;
  return {{"id", st.id},
          {"name", st.name.empty() ? rec.name : st.name},
          {"kind", rec.kind},
          {"state", state},
          {"error", error},
          {"error_code", error.empty() ? std::string() : st.error_code},
          {"disk_full", st.disk_full},
          {"progress", st.progress},
          {"total_wanted", st.total_wanted},
          {"total_done", st.total_done},
          {"total_size", st.total_size},
          {"download_rate", st.download_rate},
          {"upload_rate", st.upload_rate},
          {"downloaded", st.downloaded},
          {"uploaded", st.uploaded},
          {"peers", st.peers},
          {"seeds", st.seeds},
          {"eta", st.eta},
          {"has_metadata", st.has_metadata},
          {"sequential", st.sequential},
          {"only", rec.only_glob},
          {"released", rec.released},
          {"destination", rec.destination},
          {"save_path", st.save_path},
          {"source", rec.source},
          {"added_at", rec.added_at},
          {"completed_at", rec.completed_at},
          {"info_hashes", info_hashes},
          {"runnable", runnable},
          {"quarantined", release.quarantined},
          {"scan", {{"done", release.scan.first}, {"total", release.scan.second}}}};
}

nlohmann::json to_json(const std::vector<swarm::FileStatus>& files) {
  auto out = nlohmann::json::array();
  for (const auto& f : files) {
    out.push_back(
        {{"index", f.index}, {"path", f.path}, {"size", f.size}, {"done", f.done}, {"wanted", f.wanted}});
  }
  return out;
}

}  // namespace kith::app
