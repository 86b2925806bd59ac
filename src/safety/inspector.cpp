#include "safety/inspector.hpp"

#include <algorithm>

#include "safety/errors.hpp"
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

std::shared_ptr<const Scanner> Inspector::wait_scanner(std::string& why) const {
  std::unique_lock lock(m_mutex);
  m_ready.wait(lock, [this] { return m_loaded; });
  why = m_unavailable_why;
  return m_scanner;
}

FileVerdict judge(const std::filesystem::path& rel, const FileScan& scan,
                  std::optional<std::string> runnable) {
  FileVerdict v;
  v.finding.path = rel.generic_string();
  if (runnable) v.finding.runnable = *runnable;
  v.bytes = scan.bytes;
  if (!scan.ok) v.finding.problem = "scan error: " + scan.error;
  for (const auto& name : scan.names) {
    v.finding.detections.push_back(name);
    if (is_macro_alert(name)) {
      if (v.finding.runnable.empty()) v.finding.runnable = "document with macros";
    } else if (is_incomplete_alert(name)) {
      if (v.finding.problem.empty()) v.finding.problem = "not fully scanned (" + name + ")";
    } else if (v.signature.empty()) {
      v.signature = name;
    }
  }
  return v;
}

FileVerdict Inspector::inspect_file(const std::filesystem::path& root,
                                    const std::filesystem::path& rel) const {
  std::string why;
  auto scanner = wait_scanner(why);
  const auto path = root / rel;
  if (!scanner) {
    FileVerdict v;
    v.finding.path = rel.generic_string();
    if (auto kind = runnable_kind(path)) v.finding.runnable = *kind;
    v.not_scanned = why.empty() ? "no scanner" : why;
    return v;
  }
  return judge(rel, scanner->scan(path), runnable_kind(path));
}

Result<FileVerdict> Inspector::inspect_stream(const std::filesystem::path& rel,
                                              const ByteSource& source) const {
  std::string why;
  auto scanner = wait_scanner(why);
  if (!scanner) {
    // Nothing to scan with: the no-database verdict needs no bytes (the runnable flag goes by name).
    FileVerdict v;
    v.finding.path = rel.generic_string();
    if (auto kind = runnable_kind(rel, {})) v.finding.runnable = *kind;
    v.not_scanned = why.empty() ? "no scanner" : why;
    return v;
  }
  FileScan scan = scanner->scan_source(source);
  if (scan.aborted) {
    return fail(make_error_code(errc::scan_aborted),
                "the scan of " + rel.generic_string() + " while it arrived gave up: " + scan.error);
  }
  return judge(rel, scan, runnable_kind(rel, scan.head));
}

Decision Inspector::decide(const std::vector<std::filesystem::path>& files,
                           const std::vector<FileVerdict>& verdicts) const {
  Decision d;
  bool infected = false, incomplete = false;
  std::string first_problem, not_scanned;
  for (const auto& rel : files) {
    const auto path = rel.generic_string();
    auto it = std::find_if(verdicts.begin(), verdicts.end(),
                           [&](const FileVerdict& v) { return v.finding.path == path; });
    FileVerdict v;
    if (it != verdicts.end()) {
      v = *it;
    } else {
      v.finding.path = path;  // fail closed: a wanted file nobody scanned holds the download back
      v.finding.problem = "not scanned";
    }
    if (!v.not_scanned.empty()) {
      if (not_scanned.empty()) not_scanned = v.not_scanned;
    } else {
      d.bytes_scanned += v.bytes;
      if (v.infected() && !infected) {
        infected = true;
        d.signature = v.signature;
        d.reason = "infected: " + v.signature + " in " + path;
      }
      if (v.incomplete()) {
        incomplete = true;
        if (first_problem.empty()) first_problem = v.finding.problem + " in " + path;
      }
    }
    if (!v.finding.runnable.empty()) d.runnable.push_back(path);
    if (!v.finding.detections.empty() || !v.finding.problem.empty() || !v.finding.runnable.empty()) {
      d.findings.push_back(std::move(v.finding));
    }
  }

  if (!not_scanned.empty()) {
    d.outcome = Outcome::no_database;
    d.reason = "not scanned: " + not_scanned;
    d.signature.clear();
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

Decision Inspector::inspect(const std::filesystem::path& root,
                            const std::vector<std::filesystem::path>& files,
                            const ScanProgress& progress) const {
  std::string why;
  const bool have_scanner = wait_scanner(why) != nullptr;
  std::uint64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    total += std::filesystem::file_size(root / f, ec);
  }
  std::vector<FileVerdict> verdicts;
  std::uint64_t done = 0;
  for (const auto& rel : files) {
    verdicts.push_back(inspect_file(root, rel));
    done += verdicts.back().bytes;
    if (progress && have_scanner) progress(done, total);
  }
  return decide(files, verdicts);
}

}  // namespace kith::safety
