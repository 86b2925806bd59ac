#include "safety/inspector.hpp"

#include "safety/runnable.hpp"

namespace kith::safety {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::clean:
      return "clean";
    case Outcome::infected:
      return "infected";
    case Outcome::incomplete:
      return "incomplete";
    case Outcome::no_database:
      return "no_database";
    case Outcome::held_runnable:
      return "held_runnable";
  }
  return "unknown";
}

bool is_incomplete_alert(const std::string& d) {
  // libclamav's names for "stopped at a limit" and "could not look inside".
  return d.rfind("Heuristics.Limits.Exceeded", 0) == 0 || d.rfind("Heuristics.Encrypted", 0) == 0;
}

nlohmann::json to_json(const FileFinding& f) {
  nlohmann::json j{{"path", f.path}, {"detections", f.detections}};
  if (!f.problem.empty()) j["problem"] = f.problem;
  if (!f.runnable.empty()) j["runnable"] = f.runnable;
  return j;
}

nlohmann::json to_json(const Decision& d) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : d.findings) findings.push_back(to_json(f));
  return {{"outcome", to_string(d.outcome)},
          {"signature", d.signature},
          {"reason", d.reason},
          {"findings", findings},
          {"runnable", d.runnable},
          {"bytes_scanned", d.bytes_scanned}};
}

void Inspector::set_scanner(std::shared_ptr<const Scanner> scanner, std::string why) {
  {
    std::lock_guard lock(m_mutex);
    m_scanner = std::move(scanner);
    m_unavailable_why = std::move(why);
    m_loaded = true;
  }
  m_ready.notify_all();
}

nlohmann::json Inspector::state() const {
  std::lock_guard lock(m_mutex);
  if (!m_loaded) return {{"scanner", "loading"}};
  if (!m_scanner) return {{"scanner", "unavailable"}, {"reason", m_unavailable_why}};
  return {{"scanner", "ready"},
          {"signatures", m_scanner->signature_count()},
          {"databases", m_scanner->sources()}};
}

Decision Inspector::inspect(const std::filesystem::path& root,
                            const std::vector<std::filesystem::path>& files,
                            const ScanProgress& progress) const {
  std::shared_ptr<const Scanner> scanner;
  std::string why;
  {
    std::unique_lock lock(m_mutex);
    m_ready.wait(lock, [this] { return m_loaded; });
    scanner = m_scanner;
    why = m_unavailable_why;
  }

  std::uint64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    total += std::filesystem::file_size(root / f, ec);
  }

  Decision d;
  bool infected = false, incomplete = false;
  std::string first_problem;
  for (const auto& rel : files) {
    const auto path = root / rel;
    FileFinding finding{rel.generic_string(), {}, {}, {}};
    if (auto kind = runnable_kind(path)) finding.runnable = *kind;
    if (scanner) {
      FileScan scan = scanner->scan(path);
      d.bytes_scanned += scan.bytes;
      if (!scan.ok) finding.problem = "scan error: " + scan.error;
      for (const auto& name : scan.names) {
        finding.detections.push_back(name);
        if (is_macro_alert(name)) {
          if (finding.runnable.empty()) finding.runnable = "document with macros";
        } else if (is_incomplete_alert(name)) {
          if (finding.problem.empty()) finding.problem = "not fully scanned (" + name + ")";
        } else if (!infected) {
          infected = true;
          d.signature = name;
          d.reason = "infected: " + name + " in " + finding.path;
        }
      }
      if (!finding.problem.empty()) {
        incomplete = true;
        if (first_problem.empty()) first_problem = finding.problem + " in " + finding.path;
      }
      if (progress) progress(d.bytes_scanned, total);
    }
    if (!finding.runnable.empty()) d.runnable.push_back(finding.path);
    if (!finding.detections.empty() || !finding.problem.empty() || !finding.runnable.empty()) {
      d.findings.push_back(std::move(finding));
    }
  }

  if (!scanner) {
    d.outcome = Outcome::no_database;
    d.reason = "not scanned: " + why;
  } else if (infected) {
    d.outcome = Outcome::infected;
  } else if (incomplete) {
    d.outcome = Outcome::incomplete;
    d.reason = first_problem;
  } else if (m_options.hold_runnable && !d.runnable.empty()) {
    d.outcome = Outcome::held_runnable;
    d.reason =
        "clean, but can run code (" + d.runnable.front() + "); held by the safety.hold_runnable setting";
  } else {
    d.outcome = Outcome::clean;
  }
  return d;
}

}  // namespace kith::safety
