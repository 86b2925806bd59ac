#include "app/release_machine.hpp"

#include <algorithm>

namespace kith::app {
namespace {

int severity(safety::Outcome o) {
  switch (o) {
    case safety::Outcome::infected:
      return 4;
    case safety::Outcome::incomplete:
      return 3;
    case safety::Outcome::no_database:
      return 2;
    case safety::Outcome::held_runnable:
      return 1;
    case safety::Outcome::clean:
      return 0;
  }
  return 4;
}

bool scanning_allowed(ReleasePhase p) {
  return p == ReleasePhase::staging || p == ReleasePhase::verifying || p == ReleasePhase::scanning;
}

}  // namespace

const char* to_string(ReleasePhase phase) {
  switch (phase) {
    case ReleasePhase::staging:
      return "staging";
    case ReleasePhase::verifying:
      return "verifying";
    case ReleasePhase::scanning:
      return "scanning";
    case ReleasePhase::releasing:
      return "releasing";
    case ReleasePhase::released:
      return "released";
    case ReleasePhase::quarantining:
      return "quarantining";
    case ReleasePhase::quarantined:
      return "quarantined";
    case ReleasePhase::held:
      return "held";
  }
  return "unknown";
}

safety::Decision combine(const std::vector<safety::Decision>& verdicts) {
  safety::Decision out;
  out.outcome = safety::Outcome::clean;
  for (const auto& v : verdicts) {
    out.bytes_scanned += v.bytes_scanned;
    out.findings.insert(out.findings.end(), v.findings.begin(), v.findings.end());
    out.runnable.insert(out.runnable.end(), v.runnable.begin(), v.runnable.end());
    if (severity(v.outcome) > severity(out.outcome)) {
      out.outcome = v.outcome;
      out.signature = v.signature;
      out.reason = v.reason;
    }
  }
  return out;
}

std::vector<int> ReleaseMachine::set_files(std::vector<WantedFile> files) {
  std::set<int> wanted;
  for (const auto& f : files) wanted.insert(f.index);
  for (auto it = m_verdicts.begin(); it != m_verdicts.end();)
    it = wanted.count(it->first) ? std::next(it) : m_verdicts.erase(it);
  std::vector<int> dropped;
  for (auto it = m_running.begin(); it != m_running.end();) {
    if (wanted.count(it->first)) {
      ++it;
    } else {
      dropped.push_back(it->first);
      it = m_running.erase(it);
    }
  }
  m_files = std::move(files);
  m_files_known = true;
  return dropped;
}

void ReleaseMachine::file_complete(int index) {
  for (auto& f : m_files)
    if (f.index == index) f.complete = true;
}

std::vector<ScanJob> ReleaseMachine::take_scans(int slots, bool downloading) {
  std::vector<ScanJob> out;
  if (!scanning_allowed(m_phase) || !m_files_known) return out;
  slots -= running_scans();
  auto waiting = [&](const WantedFile& f) {
    // While the download runs, a file whose reader gave up waits for its end (no loop of start, give up).
    return !m_verdicts.count(f.index) && !m_running.count(f.index) &&
           !(downloading && m_after_download.count(f.index));
  };
  for (const auto& f : m_files) {
    if (slots <= 0) break;
    if (f.complete && waiting(f)) {
      m_running[f.index] = false;
      out.push_back({f, /*stream=*/false, /*through_reader=*/downloading});
      --slots;
    }
  }
  const bool streaming =
      std::any_of(m_running.begin(), m_running.end(), [](const auto& r) { return r.second; });
  if (slots > 0 && downloading && !streaming) {
    for (const auto& f : m_files) {
      if (!f.complete && waiting(f)) {
        m_running[f.index] = true;
        out.push_back({f, /*stream=*/true, /*through_reader=*/true});
        break;
      }
    }
  }
  return out;
}

void ReleaseMachine::scan_done(int index, safety::Decision verdict) {
  m_running.erase(index);
  const bool wanted =
      std::any_of(m_files.begin(), m_files.end(), [&](const auto& f) { return f.index == index; });
  if (wanted) m_verdicts[index] = std::move(verdict);
}

void ReleaseMachine::scan_gave_up(int index) {
  m_running.erase(index);
  m_after_download.insert(index);  // scanned once the download is complete, not read early again
}

void ReleaseMachine::all_downloaded() {
  if (m_phase != ReleasePhase::staging) return;
  m_phase = ReleasePhase::verifying;
  // Every wanted piece is there, so every wanted file is complete (whatever file_completed said).
  for (auto& f : m_files) f.complete = true;
}

void ReleaseMachine::verified() {
  if (m_phase == ReleasePhase::verifying) m_phase = ReleasePhase::scanning;
}

ReleaseMachine::Next ReleaseMachine::next() const {
  if (!scanning_allowed(m_phase)) return Next::wait;
  for (const auto& [index, v] : m_verdicts)
    if (!v.release()) return Next::quarantine;
  if (m_phase != ReleasePhase::scanning || !m_files_known || !m_running.empty()) return Next::wait;
  for (const auto& f : m_files)
    if (!m_verdicts.count(f.index)) return Next::wait;
  return Next::release;
}

safety::Decision ReleaseMachine::decision() const {
  std::vector<safety::Decision> all;
  for (const auto& f : m_files)
    if (auto it = m_verdicts.find(f.index); it != m_verdicts.end()) all.push_back(it->second);
  return combine(all);
}

std::pair<std::uint64_t, std::uint64_t> ReleaseMachine::scan_progress() const {
  std::uint64_t done = 0, total = 0;
  for (const auto& f : m_files) {
    total += f.size;
    if (m_verdicts.count(f.index)) done += f.size;
  }
  return {done, total};
}

void ReleaseMachine::moving(bool to_quarantine) {
  m_running.clear();  // scans still out are ignored when they answer
  m_phase = to_quarantine ? ReleasePhase::quarantining : ReleasePhase::releasing;
}

void ReleaseMachine::moved() {
  if (m_phase == ReleasePhase::releasing) m_phase = ReleasePhase::released;
  if (m_phase == ReleasePhase::quarantining) m_phase = ReleasePhase::quarantined;
}

void ReleaseMachine::move_failed() {
  if (m_phase == ReleasePhase::releasing) m_phase = ReleasePhase::held;
  // A failed move into the quarantine folder leaves the data in staging, still out of the user's way
  // and still held: quarantined all the same.
  if (m_phase == ReleasePhase::quarantining) m_phase = ReleasePhase::quarantined;
}

void ReleaseMachine::retry() {
  if (m_phase == ReleasePhase::held) m_phase = ReleasePhase::verifying;
}

}  // namespace kith::app
