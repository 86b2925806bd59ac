#pragma once
// One function per `kith` subcommand. Each returns the process exit code: 0 success, 1 runtime
// failure, 2 bad input (a malformed link, a missing path, an unknown id, a bad setting).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/home.hpp"
#include "app/settings.hpp"
#include "base/error.hpp"

namespace kith::cli {

struct Context {
  app::Home home;
  app::Settings settings;
  bool json = false;  // machine-readable output on stdout
};

struct ShareArgs {
  std::string path;
  std::string format = "hybrid";
  std::string torrent_out;
  std::vector<std::string> trackers;
  std::string comment;
  bool sign = false;
};

struct GetArgs {
  std::string link;
  std::string to;
  std::string only;
  std::vector<std::string> peers;
  bool seed = false;
  bool sequential = false;
  int timeout = 300;  // give up after this many seconds without any data arriving (0: never)
};

struct BlockArgs {
  std::string hash;     // an info-hash (v1 or v2 hex)
  std::string peer_id;  // or a peer ID (40 hex digits) or client prefix
  std::string reason;
};

// `wait_seconds`: how long a starting daemon waits for a command that is using the home.
int run_daemon(Context& ctx, int wait_seconds);
int run_share(Context& ctx, const ShareArgs& args);
int run_get(Context& ctx, const GetArgs& args);
int run_list(Context& ctx);
int run_show(Context& ctx, const std::string& id);
int run_control(Context& ctx, const std::string& action, const std::string& id, bool delete_data);
int run_status(Context& ctx);
int run_settings(Context& ctx);
// action: add | remove | list | reload
int run_block(Context& ctx, const std::string& action, const BlockArgs& args);
// cmd_safety.cpp: `kith quarantine list|show|release|delete`, `kith report`, `kith reports`.
int run_quarantine(Context& ctx, const std::string& action, const std::string& id, bool all);
int run_report(Context& ctx, const std::string& id, const std::string& reason);
int run_reports(Context& ctx);

class Backend;
// Follows a share (or a file sent to a contact) while it is hashed, with progress on stderr (none with
// --json); the transfer it became, or why not. Ctrl-C cancels the hashing.
Result<nlohmann::json> wait_hashed(Context& ctx, Backend& backend, nlohmann::json shared);

// Exit code of `get` when the download was quarantined instead of released.
constexpr int EXIT_QUARANTINED = 3;
class Backend;
// Prints why transfer `id` is in quarantine and what to do; returns EXIT_QUARANTINED.
int report_quarantined(const Context& ctx, Backend& backend, const std::string& id);
// After a release: names the files that can run code (executables, scripts, macros), on stderr.
void print_runnable_note(const nlohmann::json& transfer);
// "signed by you" / "signed by unknown key <ID>" / "unsigned", on stderr.
void print_publisher(const nlohmann::json& publisher);
// Prints (or with `open`, opens) a one-time login link for the running daemon's web UI.
int run_ui(Context& ctx, bool open);

// Prints the error (one line on stderr, or {"error":{...}} on stdout with --json) and returns 1 or 2.
int report(const Context& ctx, const Error& error);

// The daemon's backend, or a transient node; logging of a transient node goes to HOME/kith.log so
// that the progress line on stderr stays readable.
class Backend;
Result<std::unique_ptr<Backend>> open_backend(Context& ctx);

// One URL path segment, percent-encoded (names and peer-ID prefixes may hold '/', '?', '%', '#', spaces).
std::string encode_segment(const std::string& text);
// "2026-11-26 15:04" in local time.
std::string format_time(std::int64_t unix_seconds);

// cmd_contacts.cpp: `kith id`, `kith contacts ...`; cmd_messages.cpp: `kith msg`, `chat`, `inbox`, `group`.
struct ContactsArgs {
  std::string action;   // list, add, requests, accept, decline, rename, remove, block, addr, show
  std::string who;      // invite, ID or name
  std::string value;    // new name (rename), HOST:PORT (addr)
  std::string name;     // --name for add
  std::string message;  // --message for add
};
int run_id(Context& ctx);
int run_contacts(Context& ctx, const ContactsArgs& args);
int run_msg(Context& ctx, const std::string& who, const std::string& text);
// `kith send NAME PATH` and `kith files` (files to contacts, daemon only).
int run_send(Context& ctx, const std::string& who, const std::string& path);
int run_files(Context& ctx);
int run_chat(Context& ctx, const std::string& who);
struct InboxArgs {
  std::string with;
  std::string search;
  int limit = 50;
  bool follow = false;
};
int run_inbox(Context& ctx, const InboxArgs& args);
struct GroupArgs {
  std::string action;  // list, create, add, msg
  std::string group;
  std::vector<std::string> members;  // create: contacts; add: one contact
  std::string text;
};
int run_group(Context& ctx, const GroupArgs& args);

// cmd_calls.cpp: `kith call`, `kith answer`, `kith hangup`, `kith calls` (daemon only). `id`: a call id
// or a unique prefix; empty: the one ringing (answer) or live (hangup) call — or the calls of the one
// group call ringing or running. `who`: one contact (with `room`: joins that group call through them),
// or several: a group call. `room` for hangup: a group call (or a unique prefix) to leave.
struct MediaArgs;
int run_call(Context& ctx, const std::vector<std::string>& who, const std::string& room,
             const MediaArgs& media);
// With wait_s > 0 and no id: waits up to that long for a call to ring, then answers it.
int run_answer(Context& ctx, const std::string& id, const MediaArgs& media, int wait_s = 0);
int run_hangup(Context& ctx, const std::string& id, const std::string& room);
int run_calls(Context& ctx);

// cmd_sync.cpp: `kith sync ...` (folder sync, daemon only). FOLDER may be a folder's id, label or path;
// DEVICE a device ID or the name of an added device.
struct SyncArgs {
  // add, list, status, share, unshare, pause, resume, remove, rescan, ignores, conflicts, changes, pending,
  // accept, device-add, device-list, device-remove, versioning, versions, restore
  std::string action;
  std::string path;                    // add, accept (made absolute before it is sent)
  std::string folder;                  // the folder acted on; accept: the offered folder's id
  std::string device;                  // share, unshare; device add and remove: the device ID
  std::string id, label, type;         // add: --id, --label, --type
  std::vector<std::string> devices;    // add: --with
  std::vector<std::string> addresses;  // device add: --addr
  std::string name;                    // device add: --name
  // add --versioning, versioning TYPE; --keep, --max-age-days, --cleanout-days (-1: not given)
  std::string versioning;
  int keep = -1, max_age_days = -1, cleanout_days = -1;
  std::string version;  // restore --version YYYYMMDD-HHMMSS (versions, restore: the file is `path`)
};
int run_sync(Context& ctx, const SyncArgs& args);

// Set by SIGINT/SIGTERM in the non-daemon commands.
bool interrupted();
void install_interrupt_handler();

}  // namespace kith::cli
