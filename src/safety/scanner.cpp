#include "safety/scanner.hpp"

#include <clamav.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "safety/clamav_glue.hpp"
#include "safety/errors.hpp"

namespace kith::safety {
namespace {

// libclamav must be initialised once per process, before any engine exists.
cl_error_t init_once() {
  static cl_error_t result = [] {
    // libclamav logs through a callback; route its warnings and errors into our log, drop its chatter.
    cl_set_clcb_msg([](enum cl_msg severity, const char*, const char* msg, void* context) {
      // Its "errors" include expected ones (an empty database folder); our callers report what matters.
      const auto* scan = static_cast<const detail::ScanContext*>(context);  // null outside a scan
      const bool quiet = scan && scan->quiet && *scan->quiet;
      if (severity == CL_MSG_ERROR && !quiet)
        spdlog::warn("clamav: {}", msg ? msg : "");
      else if (severity == CL_MSG_WARN || severity == CL_MSG_ERROR)
        spdlog::debug("clamav: {}", msg ? msg : "");
    });
    return cl_init(CL_INIT_DEFAULT);
  }();
  return result;
}

// Called by libclamav for every detection in all-match mode; context is a detail::ScanContext.
void on_virus_found(int, const char* name, void* context) {
  auto* scan = static_cast<detail::ScanContext*>(context);
  if (scan && scan->out && name) scan->out->names.emplace_back(name);
}

}  // namespace

namespace detail {

cl_scan_options scan_options() {
  cl_scan_options opts{};
  opts.general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
  opts.parse = ~0u;
  opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX | CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
                   CL_SCAN_HEURISTIC_ENCRYPTED_DOC | CL_SCAN_HEURISTIC_MACROS;
  return opts;
}

void take_result(cl_error_t rc, const char* name, FileScan& out) {
  if (rc == CL_CLEAN || rc == CL_VIRUS) {
    out.ok = true;
    if (rc == CL_VIRUS && out.names.empty() && name) out.names.emplace_back(name);
  } else {
    out.error = cl_strerror(rc);
  }
}

}  // namespace detail

std::filesystem::path system_database_dir() { return cl_retdbdir(); }

Result<std::unique_ptr<Scanner>> Scanner::open(const ScannerOptions& options) {
  if (auto rc = init_once(); rc != CL_SUCCESS) {
    return fail(make_error_code(errc::scanner_failed),
                std::string("cannot initialise libclamav: ") + cl_strerror(rc));
  }
  std::unique_ptr<Scanner> s(new Scanner());
  s->m_engine = cl_engine_new();
  if (!s->m_engine)
    return fail(make_error_code(errc::scanner_failed), "cannot create a ClamAV engine (out of memory?)");

  for (const auto& db : options.databases) {
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) {
      spdlog::info("safety: signature source {} does not exist; skipped", db.string());
      continue;
    }
    unsigned loaded = 0;
    // CL_DB_STDOPT: official signatures, phishing and signed bytecode, as clamscan loads by default.
    auto rc = cl_load(db.c_str(), s->m_engine, &loaded, CL_DB_STDOPT);
    if (rc != CL_SUCCESS) {
      spdlog::warn("safety: cannot load signatures from {}: {}", db.string(), cl_strerror(rc));
      continue;
    }
    if (loaded == 0) continue;
    s->m_signatures += loaded;
    s->m_sources.push_back(db.string() + " (" + std::to_string(loaded) + " signatures)");
  }
  if (s->m_signatures == 0) {
    return fail(make_error_code(errc::no_database),
                "no ClamAV signature database found (install and run freshclam, or point the "
                "safety.signatures setting at a folder with .cvd/.hdb/.ndb files)");
  }

  const auto cap = [](std::uint64_t v) {
    return static_cast<long long>(std::min(v, ScannerOptions::MAX_FILE_SIZE));
  };
  cl_engine_set_num(s->m_engine, CL_ENGINE_MAX_FILESIZE, cap(options.max_file_size));
  cl_engine_set_num(s->m_engine, CL_ENGINE_MAX_SCANSIZE, cap(options.max_scan_size));
  cl_engine_set_num(s->m_engine, CL_ENGINE_MAX_RECURSION, options.max_recursion);
  cl_engine_set_num(s->m_engine, CL_ENGINE_MAX_FILES, options.max_files);
  cl_engine_set_num(s->m_engine, CL_ENGINE_MAX_SCANTIME, options.max_scan_ms);
  s->m_max_scan = std::chrono::milliseconds(options.max_scan_ms);
  s->m_stream_wait = std::chrono::milliseconds(
      std::uint64_t{options.max_scan_ms} * std::min<std::uint32_t>(options.stream_wait_percent, 100) / 100);
  // libclamav's scan cache hashes every file (MD5) before scanning it, to skip files seen before. A
  // node scans each download once, so the cache only costs: ~1/3 of the scan time on a 64 MiB file.
  cl_engine_set_num(s->m_engine, CL_ENGINE_DISABLE_CACHE, 1);
  cl_engine_set_clcb_virus_found(s->m_engine, on_virus_found);
  if (auto rc = cl_engine_compile(s->m_engine); rc != CL_SUCCESS) {
    return fail(make_error_code(errc::scanner_failed),
                std::string("cannot compile the ClamAV engine: ") + cl_strerror(rc));
  }
  return s;
}

Scanner::~Scanner() {
  if (m_engine) cl_engine_free(m_engine);
}

FileScan Scanner::scan(const std::filesystem::path& file) const {
  FileScan out;
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  out.bytes = std::filesystem::file_size(file, ec);
  cl_scan_options opts = detail::scan_options();
  const char* name = nullptr;
  unsigned long scanned = 0;
  detail::ScanContext context{&out, nullptr};
  auto rc = cl_scanfile_callback(file.c_str(), &name, &scanned, m_engine, &opts, &context);
  detail::take_result(rc, name, out);
  out.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return out;
}

}  // namespace kith::safety
