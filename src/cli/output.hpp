#pragma once
// Human-readable output: sizes, rates, durations, the live progress line and tables.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kith::cli {

// Human (non-JSON) output shows text from peers and links (names, file names, client names, messages,
// contact names, reasons, errors that quote a link) only through these: control characters and bidi
// overrides come out escaped (base::terminal_safe), so such text cannot drive the terminal or forge a
// line. JSON output is left exact: its encoder escapes control characters itself.
std::string safe(std::string_view text);
// A copy of `j` with every string in it (at any depth) passed through safe(), for the human printers.
nlohmann::json safe_json(const nlohmann::json& j);

std::string format_bytes(std::int64_t bytes);            // "1.5 MiB"
std::string format_rate(std::int64_t bytes_per_second);  // "12.3 MB/s"
std::string format_eta(std::int64_t seconds);            // "1:02:03", "-" when unknown

// One line: "  42.0%  12.3 MB/s  ETA 0:12  3 peers  downloading  name".
std::string progress_line(const nlohmann::json& transfer);

// Prints on stderr: rewrites one line on a terminal, or a line every few seconds otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter();
  void update(const nlohmann::json& transfer);
  void finish();  // ends the rewritten line, if any

 private:
  bool m_tty;
  std::int64_t m_last_print_ms = 0;
  std::int64_t m_last_done = 0;
  bool m_dirty = false;
};

// One JSON object per line on stdout, flushed (for `--json` streams).
void print_json_line(const nlohmann::json& j);
void print_transfer_table(const nlohmann::json& transfers);
void print_transfer_details(const nlohmann::json& transfer);

}  // namespace kith::cli
