#include "cli/output.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "base/terminal.hpp"

namespace kith::cli {

std::string safe(std::string_view text) { return base::terminal_safe(text); }

nlohmann::json safe_json(const nlohmann::json& j) {
  if (j.is_string()) return safe(j.get_ref<const std::string&>());
  if (j.is_array()) {
    auto out = nlohmann::json::array();
    for (const auto& v : j) out.push_back(safe_json(v));
    return out;
  }
  if (j.is_object()) {
    auto out = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) out[k] = safe_json(v);
    return out;
  }
  return j;
}

std::string format_bytes(std::int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string format_rate(std::int64_t bps) {
  char buf[32];
  if (bps >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1f MB/s", static_cast<double>(bps) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.0f kB/s", static_cast<double>(bps) / 1e3);
  return buf;
}

std::string format_eta(std::int64_t s) {
  if (s < 0) return "-";
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

std::string progress_line(const nlohmann::json& transfer) {
  const auto t = safe_json(transfer);
  char buf[512];
  if (t.value("state", "") == "hashing") {
    const auto h = t.value("hashing", nlohmann::json::object());
    const auto total = h.value("total", std::int64_t{0});
    const auto done = h.value("done", std::int64_t{0});
    std::snprintf(buf, sizeof buf, "%6.1f%%  hashed %s of %s  %s  ETA %s  %s",
                  total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0,
                  format_bytes(done).c_str(), format_bytes(total).c_str(),
                  format_rate(h.value("rate", std::int64_t{0})).c_str(),
                  format_eta(h.value("eta", std::int64_t{-1})).c_str(), t.value("name", "").c_str());
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%6.1f%%  %s of %s  %s  ETA %s  %d peers  %s  %s",
                t.value("progress", 0.0) * 100, format_bytes(t.value("total_done", std::int64_t{0})).c_str(),
                format_bytes(t.value("total_wanted", std::int64_t{0})).c_str(),
                format_rate(t.value("download_rate", std::int64_t{0})).c_str(),
                format_eta(t.value("eta", std::int64_t{-1})).c_str(), t.value("peers", 0),
                t.value("state", "").c_str(), t.value("name", "").c_str());
  return buf;
}

ProgressPrinter::ProgressPrinter() : m_tty(::isatty(STDERR_FILENO) != 0) {}

void ProgressPrinter::update(const nlohmann::json& t) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
  if (m_tty) {
    std::fprintf(stderr, "\r\033[K%s", progress_line(t).c_str());
    m_dirty = true;
  } else {
    // Not a terminal (a log, a pipe): a line every few seconds, and only when something moved, so
    // logs of a stalled transfer do not fill up with identical lines.
    auto done = t.value("total_done", std::int64_t{0});
    if (now - m_last_print_ms >= 2000 && done != m_last_done) {
      std::fprintf(stderr, "%s\n", progress_line(t).c_str());
      m_last_print_ms = now;
      m_last_done = done;
    }
  }
  std::fflush(stderr);
}

void ProgressPrinter::finish() {
  if (m_dirty) std::fprintf(stderr, "\n");
  m_dirty = false;
}

void print_json_line(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

void print_transfer_table(const nlohmann::json& list) {
  const auto transfers = safe_json(list);
  if (transfers.empty()) {
    std::printf("no transfers (add one with `kith get LINK` or `kith share PATH`)\n");
    return;
  }
  std::printf("%-10s %-6s %-11s %7s %10s %10s %5s  %s\n", "ID", "KIND", "STATE", "DONE", "DOWN", "UP",
              "PEERS", "NAME");
  for (const auto& t : transfers) {
    std::printf("%-10s %-6s %-11s %6.1f%% %10s %10s %5d  %s\n", t.value("id", "").substr(0, 10).c_str(),
                t.value("kind", "").c_str(), t.value("state", "").c_str(), t.value("progress", 0.0) * 100,
                format_rate(t.value("download_rate", std::int64_t{0})).c_str(),
                format_rate(t.value("upload_rate", std::int64_t{0})).c_str(), t.value("peers", 0),
                t.value("name", "").c_str());
    if (!t.value("error", "").empty()) std::printf("           error: %s\n", t.value("error", "").c_str());
    if (!t.value("runnable", nlohmann::json::array()).empty())
      std::printf("           can run code: %s\n", t["runnable"].dump().c_str());
  }
}

void print_transfer_details(const nlohmann::json& transfer) {
  const auto t = safe_json(transfer);
  auto line = [](const char* k, const std::string& v) { std::printf("%-12s %s\n", k, v.c_str()); };
  line("id", t.value("id", ""));
  line("name", t.value("name", ""));
  line("kind", t.value("kind", ""));
  line("state", t.value("state", ""));
  if (!t.value("error", "").empty()) line("error", t.value("error", ""));
  for (const auto& r : t.value("runnable", nlohmann::json::array())) line("runs code", r.get<std::string>());
  const auto publisher = t.value("publisher", nlohmann::json::object());
  if (publisher.value("signed", false))
    line("signed by", publisher.value("you", false) ? "you" : "unknown key " + publisher.value("id", ""));
  line("progress", progress_line(t));
  line("size", format_bytes(t.value("total_size", std::int64_t{0})));
  line("uploaded", format_bytes(t.value("uploaded", std::int64_t{0})));
  line("save path", t.value("save_path", ""));
  if (t.value("kind", "") == "get") line("destination", t.value("destination", ""));
  if (t.contains("info_hashes")) {
    for (const auto& [k, v] : t["info_hashes"].items()) line(("hash " + k).c_str(), v.get<std::string>());
  }
  if (t.contains("magnet")) line("magnet", t["magnet"].get<std::string>());
  if (t.contains("files")) {
    std::printf("files:\n");
    for (const auto& f : t["files"]) {
      std::printf("  %s %10s  %s\n", f.value("wanted", true) ? "[x]" : "[ ]",
                  format_bytes(f.value("size", std::int64_t{0})).c_str(), f.value("path", "").c_str());
    }
  }
}

}  // namespace kith::cli
