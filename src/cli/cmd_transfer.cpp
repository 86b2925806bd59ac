// `kith share` and `kith get`: the two commands that can run a transient node.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "base/base64.hpp"
#include "base/fs.hpp"
#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "swarm/selection.hpp"
#include "swarm/source.hpp"
#include "swarm/torrent_maker.hpp"

namespace kith::cli {
namespace {

void wait_for_interrupt() {
  while (!interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

}  // namespace

Result<nlohmann::json> wait_hashed(Context& ctx, Backend& backend, nlohmann::json shared) {
  const std::string job = shared.value("id", "");
  ProgressPrinter printer;
  while (shared.value("state", "") == "hashing") {
    if (interrupted()) {
      printer.finish();
      if (auto r = backend.remove(job, false); !r)
        std::fprintf(stderr, "kith: could not cancel hashing: %s\n", r.error().message.c_str());
      return fail(base::make_error_code(base::errc::unavailable), "interrupted: hashing cancelled");
    }
    // --json prints only the result (one object, as scripts expect); people see progress.
    if (!ctx.json) printer.update(shared);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    auto t = backend.show(job);  // after hashing: the transfer it became
    if (!t) {
      printer.finish();
      return t;
    }
    shared = std::move(*t);
  }
  printer.finish();
  return shared;
}

int run_share(Context& ctx, const ShareArgs& args) {
  bool format_ok = false;
  swarm::parse_format(args.format, &format_ok);
  if (!format_ok) {
    return report(ctx, {base::make_error_code(base::errc::bad_input), "--format takes v1, v2 or hybrid"});
  }
  std::error_code ec;
  if (!std::filesystem::exists(args.path, ec)) {
    return report(ctx, {base::make_error_code(base::errc::not_found), args.path + " does not exist"});
  }
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto job = (*backend)->share({args.path, args.format, args.trackers, args.comment, args.sign});
  if (!job) return report(ctx, job.error());
  auto shared = wait_hashed(ctx, **backend, std::move(*job));
  if (!shared) return report(ctx, shared.error());
  const std::string id = shared->value("id", "");
  const std::string magnet = shared->value("magnet", "");
  if (!args.torrent_out.empty()) {
    auto bytes = (*backend)->torrent_file(id);
    if (!bytes) return report(ctx, bytes.error());
    if (auto r = base::atomic_write_file(args.torrent_out, *bytes); !r) return report(ctx, r.error());
  }
  if (ctx.json) {
    print_json_line({{"id", id},
                     {"name", shared->value("name", "")},
                     {"magnet", magnet},
                     {"torrent_file", args.torrent_out},
                     {"transient", (*backend)->transient()},
                     {"publisher", shared->value("publisher", nlohmann::json::object())}});
  } else {
    std::printf("%s\n", magnet.c_str());
    std::fflush(stdout);
  }
  if ((*backend)->transient()) {
    std::fprintf(stderr, "seeding %s from this process; press Ctrl-C to stop (or run `kith daemon`)\n",
                 safe(shared->value("name", "")).c_str());
    wait_for_interrupt();
  }
  return 0;
}

int run_get(Context& ctx, const GetArgs& args) {
  // Refuse bad input before starting a node, so nothing is created for it.
  auto src = swarm::parse_link_or_file(args.link);
  if (!src) return report(ctx, src.error());
  // A .torrent's files are known now: an --only that matches none of them is refused here too.
  if (auto r = swarm::check_selection(*src, args.only); !r) return report(ctx, r.error());
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto added = (*backend)->get({args.link, args.to, args.only, args.sequential, args.peers});
  if (!added) return report(ctx, added.error());
  const std::string id = added->value("id", "");

  ProgressPrinter printer;
  auto last_change = std::chrono::steady_clock::now();
  std::int64_t last_bytes = -1;
  std::string reported_error;
  for (;;) {
    if (interrupted()) {
      printer.finish();
      std::fprintf(stderr, "interrupted; run the same command again to continue where it stopped\n");
      return 130;
    }
    auto t = (*backend)->show(id);
    if (!t) {
      printer.finish();
      return report(ctx, t.error());
    }
    const std::string state = t->value("state", "");
    if (ctx.json) {
      auto j = *t;
      j["event"] = "progress";
      j.erase("files");
      print_json_line(j);
    } else {
      printer.update(*t);
    }
    if (state == "completed") {
      printer.finish();
      auto path = (std::filesystem::path(t->value("destination", "")) / t->value("name", "")).string();
      if (ctx.json)
        print_json_line({{"event", "done"}, {"id", id}, {"name", t->value("name", "")}, {"path", path}});
      else
        std::printf("%s\n", safe(path).c_str());  // the name is the link's: exact in --json
      std::fflush(stdout);
      if (!ctx.json) print_publisher(t->value("publisher", nlohmann::json::object()));
      print_runnable_note(*t);
      if (args.seed && (*backend)->transient()) {
        std::fprintf(stderr, "seeding; press Ctrl-C to stop\n");
        wait_for_interrupt();
      }
      return 0;
    }
    if (state == "quarantined") {
      printer.finish();
      if (!ctx.json) print_publisher(t->value("publisher", nlohmann::json::object()));
      return report_quarantined(ctx, **backend, id);
    }
    const std::string error = t->value("error", "");
    if (state == "error" && t->value("error_code", "") == "swarm.nothing_selected") {
      // A magnet's --only or so= named none of the files the metadata brought: bad input, and nothing
      // to keep (in transient mode the transfer goes; a daemon keeps it, in error, for `kith list`).
      printer.finish();
      if ((*backend)->transient()) (void)(*backend)->remove(id, true);
      return report(ctx, {swarm::make_error_code(swarm::errc::nothing_selected), error});
    }
    if (state == "held" || (state == "error" && !t->value("disk_full", false))) {
      printer.finish();
      return report(ctx, {base::make_error_code(base::errc::internal), t->value("name", "") + ": " + error});
    }
    if (!error.empty() && error != reported_error) {
      printer.finish();
      std::fprintf(stderr, "kith: %s\n", safe(error).c_str());  // e.g. disk full: keeps waiting for space
      reported_error = error;
    }
    std::int64_t bytes = t->value("total_done", std::int64_t{0}) + t->value("downloaded", std::int64_t{0});
    auto now = std::chrono::steady_clock::now();
    if (bytes != last_bytes || state == "checking" || state == "verifying" || state == "scanning" ||
        state == "releasing") {
      last_bytes = bytes;
      last_change = now;
    } else if (args.timeout > 0 && now - last_change > std::chrono::seconds(args.timeout)) {
      printer.finish();
      std::string why = t->value("peers", 0) == 0 ? "no peer could be reached" : "peers sent no data";
      if ((*backend)->transient()) {
        (void)(*backend)->remove(id, true);  // nothing may be left behind for a download that never happened
        return report(ctx, {base::make_error_code(base::errc::unavailable),
                            why + " for " + std::to_string(args.timeout) +
                                " s (unknown hash or unreachable seed?); check the link and try again"});
      }
      return report(
          ctx, {base::make_error_code(base::errc::unavailable),
                why + " for " + std::to_string(args.timeout) + " s; the daemon keeps trying (`kith list`)"});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace kith::cli
