// kith: one binary, a subcommand per job. See `kith --help` and docs/cli.md.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "app/home.hpp"
#include "app/settings.hpp"
#include "cli/call_endpoint.hpp"
#include "cli/commands.hpp"

using namespace kith;

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished API client must not kill the node

  CLI::App cli{"kith: peer-to-peer sharing, syncing and talking, with no central server"};
  cli.set_version_flag("--version", KITH_VERSION);
  cli.require_subcommand(1);
  cli.fallthrough();  // global options are accepted after the subcommand too

  std::string home_flag;
  std::vector<std::string> overrides;
  bool json = false;
  cli.add_option(
      "--home", home_flag,
      "Node home folder (default: $KITH_HOME, else $XDG_DATA_HOME/kith, else ~/.local/share/kith)");
  // allow_extra_args(false): each --set/--peer/--tracker takes exactly one value, so a positional
  // argument after it is not swallowed.
  cli.add_option("--set", overrides,
                 "Override a setting for this run: NAME=VALUE (repeatable; see `kith settings`)")
      ->allow_extra_args(false);
  cli.add_flag("--json", json, "Machine-readable JSON output on stdout");

  auto* daemon = cli.add_subcommand("daemon", "Run a node in the foreground until SIGINT/SIGTERM");
  int daemon_wait = 60;
  daemon
      ->add_option("--wait", daemon_wait,
                   "Seconds to wait for a kith command that is using this home to finish, before giving up")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  cli::ShareArgs share_args;
  auto* share = cli.add_subcommand("share",
                                   "Share a file or folder and print its magnet link (hashing shows progress "
                                   "on stderr; Ctrl-C cancels it)");
  share->add_option("path", share_args.path, "File or folder to share")->required();
  share->add_option("--format", share_args.format, "Torrent format: v1, v2 or hybrid")->capture_default_str();
  share->add_option("--torrent", share_args.torrent_out, "Also write the .torrent file here");
  share->add_option("--tracker", share_args.trackers, "Announce URL to put in the torrent (repeatable)")
      ->allow_extra_args(false);
  share->add_option("--comment", share_args.comment, "Comment to put in the torrent");
  share->add_flag("--sign", share_args.sign,
                  "Add your publisher signature to the link (getters see \"signed by <your kith ID>\")");

  cli::GetArgs get_args;
  auto* get = cli.add_subcommand("get", "Download a magnet link or .torrent file, verified, into a folder");
  get->add_option("link", get_args.link, "Magnet link or path of a .torrent file")->required();
  get->add_option("--to", get_args.to, "Destination folder (default: the download.dir setting)");
  get->add_option("--only", get_args.only, "Download only files whose path or name matches this glob");
  get->add_option("--peer", get_args.peers,
                  "Also dial this peer, IP:PORT (repeatable; for .torrent files on a LAN)")
      ->allow_extra_args(false);
  get->add_flag("--seed", get_args.seed, "Keep seeding after the download completes (until Ctrl-C)");
  get->add_flag("--sequential", get_args.sequential, "Download pieces in order (for playing media early)");
  get->add_option("--timeout", get_args.timeout, "Give up after this many seconds with no data (0: never)")
      ->capture_default_str();

  auto* list = cli.add_subcommand("list", "List transfers");
  std::string id;
  bool delete_data = false;
  auto* show = cli.add_subcommand("show", "Show one transfer: state, files, magnet link");
  show->add_option("id", id, "Transfer id (a unique prefix is enough)")->required();
  auto* pause = cli.add_subcommand("pause", "Pause a transfer");
  pause->add_option("id", id, "Transfer id")->required();
  auto* resume = cli.add_subcommand("resume", "Resume a paused or failed transfer");
  resume->add_option("id", id, "Transfer id")->required();
  auto* remove = cli.add_subcommand("remove", "Remove a transfer (keeps released data unless --delete-data)");
  remove->add_option("id", id, "Transfer id")->required();
  remove->add_flag("--delete-data", delete_data,
                   "Also delete the transfer's files (for a share: the shared files themselves)");
  auto* status = cli.add_subcommand("status", "Show the node: id, ports, DHT, rates");
  cli::BlockArgs block_args;
  auto* block = cli.add_subcommand("block", "The local block list (info-hashes, peer IDs) and the IP filter");
  block->require_subcommand(1);
  auto* block_add =
      block->add_subcommand("add", "Refuse an info-hash (and remove its transfer) or a peer ID");
  block_add->add_option("hash", block_args.hash, "Info-hash: 40 hex digits (v1) or 64 (v2)");
  block_add->add_option("--peer-id", block_args.peer_id,
                        "Peer ID: 40 hex digits (a whole ID) or a client prefix such as -XL0012-");
  block_add->add_option("--reason", block_args.reason, "Why (shown by `kith block list`)");
  auto* block_remove = block->add_subcommand("remove", "Take an info-hash or peer ID off the block list");
  block_remove->add_option("hash", block_args.hash, "Info-hash");
  block_remove->add_option("--peer-id", block_args.peer_id, "Peer ID or client prefix, as added");
  auto* block_list = block->add_subcommand("list", "Show the block list and the loaded IP filter");
  auto* block_reload =
      block->add_subcommand("reload", "Load the IP filter files of the safety.ipfilter setting again");
  auto* settings = cli.add_subcommand("settings", "List every setting with type, default, value and meaning");
  bool open_browser = false;
  auto* ui =
      cli.add_subcommand("ui", "Print a one-time login link (valid 2 minutes) for the daemon's web UI");
  ui->add_flag("--open", open_browser, "Open the link in the desktop's browser (xdg-open)");

  auto* quarantine = cli.add_subcommand(
      "quarantine", "Downloads and synced files held back by the safety check (list by default)");
  bool all = false;
  std::string qid;
  auto* q_list =
      quarantine->add_subcommand("list", "List held items (--all: also released and deleted ones)");
  q_list->add_flag("--all", all, "Include items already released or deleted");
  auto* q_show = quarantine->add_subcommand("show", "Why an item is held: signature, files, peers");
  q_show
      ->add_option("id", qid,
                   "Quarantine id (a transfer id, or sync-... for a synced file; a unique prefix is enough)")
      ->required();
  auto* q_release = quarantine->add_subcommand(
      "release",
      "Release an item to its destination anyway (a synced file: only while its version is the newest)");
  q_release->add_option("id", qid, "Quarantine id")->required();
  auto* q_delete = quarantine->add_subcommand(
      "delete", "Delete an item's data and its transfer (a synced file: that version is still not fetched)");
  q_delete->add_option("id", qid, "Quarantine id")->required();
  std::string reason;
  auto* report =
      cli.add_subcommand("report", "Write a JSON report about a download for network administrators");
  report->add_option("id", qid, "Quarantine item or transfer id")->required();
  report->add_option("--reason", reason, "Why you report it (required)")->required();
  auto* reports = cli.add_subcommand("reports", "List the reports in HOME/reports/");

  auto* id_cmd =
      cli.add_subcommand("id", "Print your kith ID and invite link (give it to people to add you)");
  cli::ContactsArgs contacts_args;
  auto* contacts = cli.add_subcommand("contacts", "Your contacts (list by default), requests and blocks");
  auto* c_list =
      contacts->add_subcommand("list", "Contacts with their state: online (LAN/Internet), last seen");
  auto* c_add = contacts->add_subcommand("add", "Ask someone to be your contact, by invite link or kith ID");
  c_add->add_option("invite", contacts_args.who, "Their invite link (kith:...) or kith ID")->required();
  c_add->add_option("--name", contacts_args.name, "What to call them (default: the name in the invite)");
  c_add->add_option("--message", contacts_args.message, "A short note shown with your request");
  auto* c_requests = contacts->add_subcommand("requests", "People who asked to be your contact");
  auto* c_accept = contacts->add_subcommand("accept", "Accept a contact request");
  c_accept->add_option("who", contacts_args.who, "Name or kith ID")->required();
  auto* c_decline = contacts->add_subcommand("decline", "Decline a contact request (they are not told)");
  c_decline->add_option("who", contacts_args.who, "Name or kith ID")->required();
  auto* c_show = contacts->add_subcommand("show", "One contact: state, addresses known");
  c_show->add_option("who", contacts_args.who, "Name or kith ID")->required();
  auto* c_rename = contacts->add_subcommand("rename", "Change the name you know a contact by");
  c_rename->add_option("who", contacts_args.who, "Name or kith ID")->required();
  c_rename->add_option("name", contacts_args.value, "New name")->required();
  auto* c_remove = contacts->add_subcommand("remove", "Remove a contact (or a block)");
  c_remove->add_option("who", contacts_args.who, "Name or kith ID")->required();
  auto* c_block =
      contacts->add_subcommand("block", "Block a contact or any kith ID: their channels are refused");
  c_block->add_option("who", contacts_args.who, "Name or kith ID")->required();
  auto* c_addr = contacts->add_subcommand("addr", "Tell the node where a contact can be reached");
  c_addr->add_option("who", contacts_args.who, "Name or kith ID")->required();
  c_addr->add_option("address", contacts_args.value, "HOST:PORT of their contact channel")->required();

  std::string msg_who, msg_text;
  auto* msg =
      cli.add_subcommand("msg", "Send a message to a contact (kept and sent later if they are offline)");
  msg->add_option("who", msg_who, "Contact name or kith ID")->required();
  msg->add_option("text", msg_text, "The message")->required();
  std::string send_who, send_path;
  auto* send = cli.add_subcommand(
      "send",
      "Send a file or folder to a contact, privately (only they can fetch it; it resumes after restarts)");
  send->add_option("who", send_who, "Contact name or kith ID")->required();
  send->add_option("path", send_path, "File or folder")->required();
  auto* files = cli.add_subcommand("files", "Files sent to and received from contacts, newest first");
  auto* chat = cli.add_subcommand("chat", "Chat with a contact, line by line (history, then live)");
  chat->add_option("who", msg_who, "Contact name or kith ID")->required();
  cli::InboxArgs inbox_args;
  auto* inbox = cli.add_subcommand("inbox", "Messages, newest last; --follow prints new ones as they arrive");
  inbox->add_option("--with", inbox_args.with, "Only this conversation: a contact, or group:NAME");
  inbox->add_option("--search", inbox_args.search, "Only messages with all these words");
  inbox->add_option("--limit", inbox_args.limit, "At most this many messages")->capture_default_str();
  inbox->add_flag("--follow", inbox_args.follow, "Keep printing new messages until Ctrl-C");
  cli::GroupArgs group_args;
  auto* group = cli.add_subcommand("group", "Small groups: messages go to every member (list by default)");
  auto* g_list = group->add_subcommand("list", "Your groups and their members");
  auto* g_create = group->add_subcommand("create", "Create a group with some of your contacts");
  g_create->add_option("name", group_args.group, "Group name")->required();
  g_create->add_option("members", group_args.members, "Contacts to put in it");
  auto* g_add = group->add_subcommand("add", "Add a contact to a group you created");
  g_add->add_option("group", group_args.group, "Group name or id")->required();
  g_add->add_option("contact", group_args.members, "Contact name or kith ID")->required()->expected(1);
  auto* g_msg = group->add_subcommand("msg", "Send a message to every member of a group");
  g_msg->add_option("group", group_args.group, "Group name or id")->required();
  g_msg->add_option("text", group_args.text, "The message")->required();

  std::vector<std::string> call_who;
  std::string call_id, call_room;
  int answer_wait = 0;
  cli::MediaArgs media_args;
  auto add_media = [&media_args](CLI::App* c) {
    c->add_flag("--video", media_args.video,
                "Send and receive video (camera; the call's own choice when answering)");
    c->add_flag("--video-test", media_args.video_test,
                "Send a test pattern instead of the camera, and decode received video without a window");
    c->add_option(
        "--send-audio", media_args.send_audio,
        "Play this WAV file instead of the microphone (once, to everyone in the call; then silence)");
    c->add_option(
        "--record", media_args.record,
        "Write what you hear (in a group call: everyone, mixed) to this WAV file instead of the speaker");
  };
  auto* call = cli.add_subcommand(
      "call",
      "Call a contact, or several at once for a group call (audio; --video too), and stay in the call until "
      "it ends");
  call->add_option("who", call_who, "Contact name or kith ID; two or more: a group call with all of them")
      ->required();
  call->add_option("--room", call_room,
                   "Join this group call (its room id) through the one contact named, who is in it");
  add_media(call);
  auto* answer = cli.add_subcommand(
      "answer", "Answer a ringing call (a group call: join it) and stay in it until it ends");
  answer->add_option("id", call_id, "Call id or a unique prefix (default: the one ringing call)");
  answer
      ->add_option("--wait", answer_wait,
                   "Wait up to this many seconds for a call to ring, then answer it (auto-answer, "
                   "with the media ready)")
      ->check(CLI::Range(1, 86400));
  add_media(answer);
  auto* hangup = cli.add_subcommand(
      "hangup", "End a call: declines a ringing one, cancels or hangs up yours; leaves a group call");
  hangup->add_option("id", call_id, "Call id or a unique prefix (default: the one live call or group call)");
  hangup->add_option("--room", call_room, "Leave this group call (its room id, or a unique prefix)");
  auto* calls = cli.add_subcommand("calls", "Calls: ringing, running and the last ended ones");

  // Folder sync (cmd_sync.cpp): runs in the daemon, with kith nodes and Syncthing devices alike.
  cli::SyncArgs sync_args;
  auto* sync_cmd = cli.add_subcommand(
      "sync", "Keep folders in sync with your devices, kith or Syncthing (daemon only; list by default)");
  auto* s_add = sync_cmd->add_subcommand("add", "Sync a folder (and share it with devices you added)");
  s_add->add_option("path", sync_args.path, "The folder")->required();
  s_add->add_option("--id", sync_args.id,
                    "Folder id: every device of the folder uses the same one (default: a new random id)");
  s_add->add_option("--label", sync_args.label, "A name for the folder, shown to you and to the devices");
  s_add->add_option("--type", sync_args.type,
                    "sendreceive (default), sendonly (changes elsewhere are not taken) or receiveonly (local "
                    "changes are not sent)");
  s_add
      ->add_option("--with", sync_args.devices,
                   "Share it with this device (device ID, device name or kith contact; repeatable)")
      ->allow_extra_args(false);
  // File versioning: what a pull keeps of the files it replaces or deletes (docs/sync.md § Versioning).
  auto versioning_options = [&sync_args](CLI::App* sub) {
    sub->add_option("--keep", sync_args.keep, "simple: versions kept of each file (default 5)");
    sub->add_option("--max-age-days", sync_args.max_age_days,
                    "staggered: versions older than this go (default 365; 0 keeps them forever)");
    sub->add_option("--cleanout-days", sync_args.cleanout_days,
                    "trashcan, simple: versions kept longer than this go (default 0: never)");
  };
  s_add->add_option("--versioning", sync_args.versioning,
                    "Keep replaced and deleted files in .stversions: trashcan, simple or staggered");
  versioning_options(s_add);
  auto* s_list =
      sync_cmd->add_subcommand("list", "Synced folders: state, type, local size, devices connected");
  auto* s_status = sync_cmd->add_subcommand(
      "status",
      "A folder's state (all folders without FOLDER): sizes, what it needs, devices, held files, errors");
  s_status->add_option("folder", sync_args.folder, "Folder id, label or path");
  auto* s_share = sync_cmd->add_subcommand("share", "Share a folder with a device you added");
  s_share->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
  s_share->add_option("device", sync_args.device, "Device ID or name")->required();
  auto* s_unshare = sync_cmd->add_subcommand("unshare", "Stop sharing a folder with a device");
  s_unshare->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
  s_unshare->add_option("device", sync_args.device, "Device ID or name")->required();
  std::vector<std::pair<CLI::App*, const char*>> sync_actions = {
      {s_add, "add"}, {s_list, "list"}, {s_status, "status"}, {s_share, "share"}, {s_unshare, "unshare"}};
  for (const auto& [name, help] :
       {std::pair<const char*, const char*>{"pause", "Pause syncing a folder"},
        {"resume", "Resume syncing a paused folder"},
        {"rescan", "Look for changes in a folder now (kith also rescans on its own)"},
        {"ignores", "A folder's ignore patterns (its .stignore), or why they cannot be used"},
        {"remove", "Stop syncing a folder (its files stay where they are)"}}) {
    auto* sub = sync_cmd->add_subcommand(name, help);
    sub->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
    sync_actions.emplace_back(sub, name);
  }
  auto* s_versioning = sync_cmd->add_subcommand(
      "versioning", "Change what a folder keeps of files a pull replaces or deletes (in .stversions)");
  s_versioning->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
  s_versioning->add_option("type", sync_args.versioning, "none, trashcan, simple or staggered")->required();
  versioning_options(s_versioning);
  auto* s_versions = sync_cmd->add_subcommand("versions", "Versions kept of a folder's files (or of PATH)");
  s_versions->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
  s_versions->add_option("path", sync_args.path, "A file's name in the folder, e.g. docs/a.txt");
  auto* s_restore = sync_cmd->add_subcommand(
      "restore", "Put a kept version of a file back (the current one is kept); it syncs to your devices");
  s_restore->add_option("folder", sync_args.folder, "Folder id, label or path")->required();
  s_restore->add_option("path", sync_args.path, "The file's name in the folder, e.g. docs/a.txt")->required();
  s_restore->add_option("--version", sync_args.version, "Which one, YYYYMMDD-HHMMSS (default: the newest)");
  sync_actions.insert(sync_actions.end(),
                      {{s_versioning, "versioning"}, {s_versions, "versions"}, {s_restore, "restore"}});
  auto* s_pending =
      sync_cmd->add_subcommand("pending", "Folders your devices offered that you have not taken");
  auto* s_accept = sync_cmd->add_subcommand("accept", "Take a folder a device offered, into PATH");
  s_accept->add_option("folder", sync_args.folder, "The offered folder's id (kith sync pending)")->required();
  s_accept->add_option("path", sync_args.path, "Where to keep it (created if missing)")->required();
  auto* s_conflicts = sync_cmd->add_subcommand(
      "conflicts", "Conflict copies (a change that lost, kept beside the version that won)");
  s_conflicts->add_option("folder", sync_args.folder, "Folder id, label or path (default: every folder)");
  auto* s_changes = sync_cmd->add_subcommand(
      "changes", "Recent changes: files updated, deleted or held back, and by which device (newest first)");
  s_changes->add_option("folder", sync_args.folder, "Folder id, label or path (default: every folder)");
  auto* s_device = sync_cmd->add_subcommand("device", "Devices to sync with (list by default)");
  auto* sd_add =
      s_device->add_subcommand("add", "Add a device by its device ID (Syncthing: Actions > Show ID)");
  sd_add->add_option("id", sync_args.device, "Its device ID")->required();
  sd_add->add_option("--addr", sync_args.addresses, "Where to dial it, HOST:PORT (repeatable)")
      ->allow_extra_args(false);
  sd_add->add_option("--name", sync_args.name, "What to call it");
  auto* sd_list = s_device->add_subcommand("list", "Devices: connected or not, address, client, folders");
  auto* sd_remove =
      s_device->add_subcommand("remove", "Remove a device (its folders are no longer shared with it)");
  sd_remove->add_option("id", sync_args.device, "Device ID or name")->required();
  sync_actions.insert(sync_actions.end(), {{s_pending, "pending"},
                                           {s_accept, "accept"},
                                           {s_conflicts, "conflicts"},
                                           {s_changes, "changes"},
                                           {sd_add, "device-add"},
                                           {sd_list, "device-list"},
                                           {sd_remove, "device-remove"}});

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }

  cli::Context ctx{app::Home(app::Home::resolve(home_flag)), app::Settings{}, json};
  if (auto r = ctx.settings.load_file(ctx.home.config_file()); !r) return cli::report(ctx, r.error());
  for (const auto& o : overrides) {
    if (auto r = ctx.settings.apply_override(o); !r) return cli::report(ctx, r.error());
  }

  if (*daemon) return cli::run_daemon(ctx, daemon_wait);
  cli::install_interrupt_handler();
  if (*share) return cli::run_share(ctx, share_args);
  if (*get) return cli::run_get(ctx, get_args);
  if (*list) return cli::run_list(ctx);
  if (*show) return cli::run_show(ctx, id);
  if (*pause) return cli::run_control(ctx, "pause", id, false);
  if (*resume) return cli::run_control(ctx, "resume", id, false);
  if (*remove) return cli::run_control(ctx, "remove", id, delete_data);
  if (*status) return cli::run_status(ctx);
  if (*settings) return cli::run_settings(ctx);
  if (*block_add) return cli::run_block(ctx, "add", block_args);
  if (*block_remove) return cli::run_block(ctx, "remove", block_args);
  if (*block_list) return cli::run_block(ctx, "list", block_args);
  if (*block_reload) return cli::run_block(ctx, "reload", block_args);
  if (*quarantine) {
    const char* action = *q_show ? "show" : *q_release ? "release" : *q_delete ? "delete" : "list";
    return cli::run_quarantine(ctx, action, qid, all);
  }
  if (*report) return cli::run_report(ctx, qid, reason);
  if (*reports) return cli::run_reports(ctx);
  if (*ui) return cli::run_ui(ctx, open_browser);
  if (*id_cmd) return cli::run_id(ctx);
  if (*contacts) {
    const std::pair<CLI::App*, const char*> actions[] = {
        {c_add, "add"},   {c_requests, "requests"}, {c_accept, "accept"}, {c_decline, "decline"},
        {c_show, "show"}, {c_rename, "rename"},     {c_remove, "remove"}, {c_block, "block"},
        {c_addr, "addr"}, {c_list, "list"}};
    contacts_args.action = "list";
    for (const auto& [sub, name] : actions)
      if (*sub) contacts_args.action = name;
    return cli::run_contacts(ctx, contacts_args);
  }
  if (*msg) return cli::run_msg(ctx, msg_who, msg_text);
  if (*send) return cli::run_send(ctx, send_who, send_path);
  if (*files) return cli::run_files(ctx);
  if (*chat) return cli::run_chat(ctx, msg_who);
  if (*inbox) return cli::run_inbox(ctx, inbox_args);
  if (*call) return cli::run_call(ctx, call_who, call_room, media_args);
  if (*answer) return cli::run_answer(ctx, call_id, media_args, answer_wait);
  if (*hangup) return cli::run_hangup(ctx, call_id, call_room);
  if (*calls) return cli::run_calls(ctx);
  if (*sync_cmd) {
    sync_args.action = *s_device ? "device-list" : "list";
    for (const auto& [sub, name] : sync_actions)
      if (*sub) sync_args.action = name;
    return cli::run_sync(ctx, sync_args);
  }
  if (*group) {
    group_args.action = *g_create ? "create" : *g_add ? "add" : *g_msg ? "msg" : "list";
    (void)g_list;
    return cli::run_group(ctx, group_args);
  }
  return 2;
}
