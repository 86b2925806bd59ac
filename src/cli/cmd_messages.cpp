// `kith msg`, `kith chat`, `kith inbox` and `kith group`: messages with contacts (docs/cli.md § Messages).
// Following new messages polls GET /api/v1/messages?after=CURSOR (a few times a second), which works
// the same through the daemon and needs no second connection for the event stream.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/backend.hpp"
#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace kith::cli {
namespace {

constexpr auto POLL = std::chrono::milliseconds(200);

std::string clock_time(std::int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

void print_message(const nlohmann::json& message, bool show_conversation) {
  const auto m = safe_json(message);  // names and text come from contacts: nothing raw to the terminal
  std::string where;
  if (show_conversation) where = "[" + m.value("conversation_name", std::string()) + "] ";
  std::string mark;
  if (m.value("outgoing", false)) {
    const auto status = m.value("status", std::string());
    mark = status == "queued" ? "  (queued)" : status == "read" ? "  (read)" : "  (delivered)";
    if (m.value("recipients", 0) > 1 && status != "read")
      mark = "  (delivered to " + std::to_string(m.value("delivered", 0)) + "/" +
             std::to_string(m.value("recipients", 0)) + ")";
  }
  std::printf("%s %s%s: %s%s\n", clock_time(m.value("sent_at", std::int64_t{0})).c_str(), where.c_str(),
              m.value("author_name", std::string()).c_str(), m.value("text", std::string()).c_str(),
              mark.c_str());
}

std::string messages_target(const std::string& with, const std::string& search, int limit,
                            std::int64_t after) {
  std::string t = "/api/v1/messages?limit=" + std::to_string(limit) + "&after=" + std::to_string(after);
  if (!with.empty()) t += "&with=" + encode_segment(with);
  if (!search.empty()) t += "&search=" + encode_segment(search);
  return t;
}

// Prints messages newer than `cursor` and returns the new cursor; marks `read_with` read when set.
Result<std::int64_t> print_new(Context& ctx, Backend& b, const std::string& with, std::int64_t cursor,
                               bool show_conversation) {
  auto r = b.call("GET", messages_target(with, "", 1000, cursor));
  if (!r) return tl::unexpected(r.error());
  bool incoming = false;
  for (const auto& m : (*r)["messages"]) {
    if (ctx.json)
      std::printf("%s\n", m.dump().c_str());
    else
      print_message(m, show_conversation);
    incoming |= !m.value("outgoing", false);
  }
  std::fflush(stdout);
  if (incoming && !with.empty()) {
    nlohmann::json body{{"with", with}};
    (void)b.call("POST", "/api/v1/messages/read", &body);
  }
  return r->value("cursor", cursor);
}

}  // namespace

int run_send(Context& ctx, const std::string& who, const std::string& path) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  // The daemon runs in another folder: it gets the absolute path.
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  nlohmann::json body{{"path", ec ? path : absolute}};
  auto job = (*backend)->call("POST", "/api/v1/contacts/" + encode_segment(who) + "/files", &body);
  if (!job) return report(ctx, job.error());
  auto shared = wait_hashed(ctx, **backend, std::move(*job));
  if (!shared) return report(ctx, shared.error());
  const std::string transfer_id = shared->value("id", "");
  // The offer is stored as hashing ends; find it by its transfer.
  auto offers = (*backend)->call("GET", "/api/v1/files");
  if (!offers) return report(ctx, offers.error());
  nlohmann::json offer;
  for (const auto& o : *offers)
    if (o.value("transfer_id", "") == transfer_id && o.value("direction", "") == "out") offer = o;
  if (offer.is_null())
    return report(
        ctx, {base::make_error_code(base::errc::internal),
              "the offer for transfer " + transfer_id.substr(0, 8) + " was not made (see the daemon's log)"});
  if (ctx.json) {
    auto j = *shared;
    j["offer"] = offer;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("sending %s (%lld bytes) to %s: transfer %s\n", safe(offer.value("name", "")).c_str(),
              static_cast<long long>(offer.value("size", std::int64_t{0})), safe(who).c_str(),
              transfer_id.c_str());
  std::printf(
      "%s fetches it from this daemon (now if online, else when they are back): `kith show %s` shows "
      "the upload, `kith files` the offer's state\n",
      safe(who).c_str(), transfer_id.substr(0, 8).c_str());
  return 0;
}

int run_files(Context& ctx) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto r = (*backend)->call("GET", "/api/v1/files");
  if (!r) return report(ctx, r.error());
  if (ctx.json) {
    std::printf("%s\n", r->dump().c_str());
    return 0;
  }
  if (r->empty()) std::printf("no files sent or received\n");
  for (const auto& o : safe_json(*r)) {
    const bool out = o.value("direction", "") == "out";
    std::string state = o.value("state", "");
    const auto size = o.value("size", std::int64_t{0});
    if (state == "transferring" && size > 0) {  // "transferring 42 %"
      char pct[32];
      std::snprintf(pct, sizeof pct, " %d %%",
                    static_cast<int>(100 * o.value("done", std::int64_t{0}) / size));
      state += pct;
    }
    std::printf("%s %s %s %s  %s (%lld bytes)  %s\n", o.value("transfer_id", "").substr(0, 8).c_str(),
                out ? "to" : "from", o.value("contact", "").c_str(), state.c_str(),
                o.value("name", "").c_str(), static_cast<long long>(size), o.value("reason", "").c_str());
  }
  return 0;
}

int run_msg(Context& ctx, const std::string& who, const std::string& text) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  nlohmann::json body{{"to", who}, {"text", text}};
  auto r = (*backend)->call("POST", "/api/v1/messages", &body);
  if (!r) return report(ctx, r.error());
  // Wait a moment for the delivery receipt, so "delivered" means it: an online contact answers in
  // milliseconds; an offline one gets the message when they come back.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (r->value("status", "") == "queued" && std::chrono::steady_clock::now() < deadline &&
         !interrupted()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto again = (*backend)->call("GET", "/api/v1/messages/" + r->value("id", ""));
    if (!again) break;
    r = std::move(again);
  }
  if (ctx.json)
    std::printf("%s\n", r->dump().c_str());
  else if (r->value("status", "") == "queued")
    std::printf("queued for %s: not reachable now; sent when they are back online\n",
                safe(r->value("conversation_name", who)).c_str());
  else
    std::printf("delivered to %s\n", safe(r->value("conversation_name", who)).c_str());
  return 0;
}

int run_chat(Context& ctx, const std::string& who) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto& b = **backend;
  auto contact = b.call("GET", "/api/v1/contacts/" + encode_segment(who));
  if (!contact) return report(ctx, contact.error());
  const auto name = safe(contact->value("name", who));
  std::fprintf(stderr, "chat with %s (%s). Type a line and Enter to send; Ctrl-D or Ctrl-C to leave.\n",
               name.c_str(), contact->value("online", false) ? "online" : "offline: messages wait for them");
  auto history = b.call("GET", messages_target(who, "", 20, 0));
  if (!history) return report(ctx, history.error());
  for (const auto& m : (*history)["messages"]) print_message(m, false);
  std::int64_t cursor = history->value("cursor", std::int64_t{0});
  nlohmann::json read{{"with", who}};
  (void)b.call("POST", "/api/v1/messages/read", &read);

  // stdin is read on its own thread; the main thread sends lines and prints what arrives.
  std::mutex mutex;
  std::deque<std::string> lines;
  bool eof = false;
  std::thread reader([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    }
    std::lock_guard lock(mutex);
    eof = true;
  });
  reader.detach();  // blocked in getline until the user types; the process exits around it
  for (;;) {
    std::deque<std::string> todo;
    bool done;
    {
      std::lock_guard lock(mutex);
      todo.swap(lines);
      done = eof;
    }
    for (const auto& line : todo) {
      if (line.empty()) continue;
      nlohmann::json body{{"to", who}, {"text", line}};
      auto sent = b.call("POST", "/api/v1/messages", &body);
      if (!sent) std::fprintf(stderr, "kith: not sent: %s\n", safe(sent.error().message).c_str());
    }
    auto next = print_new(ctx, b, who, cursor, false);
    if (!next) return report(ctx, next.error());
    cursor = *next;
    if (done || interrupted()) return 0;
    std::this_thread::sleep_for(POLL);
  }
}

int run_inbox(Context& ctx, const InboxArgs& a) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto& b = **backend;
  auto r = b.call("GET", messages_target(a.with, a.search, a.limit, 0));
  if (!r) return report(ctx, r.error());
  const auto& list = (*r)["messages"];
  if (ctx.json && !a.follow) {
    std::printf("%s\n", r->dump().c_str());
    return 0;
  }
  for (const auto& m : list) {
    if (ctx.json)
      std::printf("%s\n", m.dump().c_str());
    else
      print_message(m, a.with.empty());
  }
  if (list.empty() && !ctx.json && !a.follow)
    std::printf("%s\n", a.search.empty() ? "no messages" : "no message matches");
  if (!a.follow) return 0;
  std::fflush(stdout);
  std::int64_t cursor = r->value("cursor", std::int64_t{0});
  while (!interrupted()) {
    std::this_thread::sleep_for(POLL);
    auto next = print_new(ctx, b, a.with, cursor, a.with.empty());
    if (!next) return report(ctx, next.error());
    cursor = *next;
  }
  return 0;
}

int run_group(Context& ctx, const GroupArgs& a) {
  auto backend = open_backend(ctx);
  if (!backend) return report(ctx, backend.error());
  auto& b = **backend;
  Result<nlohmann::json> r = nlohmann::json();
  if (a.action == "create") {
    nlohmann::json body{{"name", a.group}, {"members", a.members}};
    r = b.call("POST", "/api/v1/groups", &body);
  } else if (a.action == "add") {
    nlohmann::json body{{"contact", a.members.empty() ? "" : a.members.front()}};
    r = b.call("POST", "/api/v1/groups/" + encode_segment(a.group) + "/members", &body);
  } else if (a.action == "msg") {
    nlohmann::json body{{"text", a.text}};
    r = b.call("POST", "/api/v1/groups/" + encode_segment(a.group) + "/messages", &body);
  } else {
    r = b.call("GET", "/api/v1/groups");
  }
  if (!r) return report(ctx, r.error());
  if (ctx.json) {
    std::printf("%s\n", r->dump().c_str());
    return 0;
  }
  if (a.action == "msg") {
    std::printf("sent to group %s (%d recipients)\n", safe(a.group).c_str(), r->value("recipients", 0));
    return 0;
  }
  auto groups = safe_json(r->is_array() ? *r : nlohmann::json::array({*r}));
  if (groups.empty()) std::printf("no groups: `kith group create NAME CONTACT...`\n");
  for (const auto& g : groups) {
    std::string members;
    for (const auto& m : g.value("members", nlohmann::json::array()))
      members += (members.empty() ? "" : ", ") + m.value("name", std::string());
    std::printf("%-20s  %s  members: %s\n", g.value("name", "").c_str(), g.value("id", "").c_str(),
                members.c_str());
  }
  return 0;
}

}  // namespace kith::cli
