#include "sync/versioner.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <map>

namespace kith::sync {
namespace {

constexpr std::int64_t DAY = 24 * 60 * 60;
constexpr std::int64_t MAX_DAYS = 36500;   // a hundred years: any more is a typo
constexpr std::int64_t MAX_KEEP = 100000;  // versions of one file

Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

bool digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view last_component(std::string_view name) {
  const auto slash = name.rfind('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

// Syncthing's staggered intervals: {step, end} in seconds; the last one ends at maxAge.
struct Interval {
  std::int64_t step, end;
};

}  // namespace

Status check_versioning(const Versioning& v) {
  if (v.type != "none" && v.type != "trashcan" && v.type != "simple" && v.type != "staggered")
    return tl::unexpected(bad("versioning is none, trashcan, simple or staggered, not '" + v.type + "'"));
  if (v.keep < 1 || v.keep > MAX_KEEP)
    return tl::unexpected(bad("keep is 1 to " + std::to_string(MAX_KEEP) + " versions"));
  if (v.max_age_days < 0 || v.max_age_days > MAX_DAYS)
    return tl::unexpected(bad("max age is 0 (forever) to " + std::to_string(MAX_DAYS) + " days"));
  if (v.cleanout_days < 0 || v.cleanout_days > MAX_DAYS)
    return tl::unexpected(bad("cleanout is 0 (never) to " + std::to_string(MAX_DAYS) + " days"));
  return {};
}

std::string version_tag(std::int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm local{};
  ::localtime_r(&t, &local);
  char out[32];
  std::strftime(out, sizeof out, "%Y%m%d-%H%M%S", &local);
  return out;
}

std::optional<std::int64_t> parse_version_tag(std::string_view tag) {
  if (tag.size() != 15 || tag[8] != '-' || !digits(tag.substr(0, 8)) || !digits(tag.substr(9))) return {};
  auto num = [&](std::size_t at, std::size_t n) { return std::stoi(std::string(tag.substr(at, n))); };
  std::tm local{};
  local.tm_year = num(0, 4) - 1900;
  local.tm_mon = num(4, 2) - 1;
  local.tm_mday = num(6, 2);
  local.tm_hour = num(9, 2);
  local.tm_min = num(11, 2);
  local.tm_sec = num(13, 2);
  local.tm_isdst = -1;  // whatever local time said then
  if (local.tm_mon > 11 || local.tm_mday < 1 || local.tm_mday > 31 || local.tm_hour > 23 ||
      local.tm_min > 59 || local.tm_sec > 60)
    return {};
  const std::time_t t = ::mktime(&local);
  if (t == static_cast<std::time_t>(-1)) return {};
  return static_cast<std::int64_t>(t);
}

std::string tagged_name(std::string_view name, std::string_view tag) {
  const auto base = last_component(name);
  const auto dot = base.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : base.substr(dot);
  std::string out(name.substr(0, name.size() - ext.size()));
  out += '~';
  out += tag;
  out += ext;
  return out;
}

std::optional<Untagged> untag_name(std::string_view tagged) {
  const auto base = last_component(tagged);
  const auto tilde = base.rfind('~');
  if (tilde == std::string_view::npos) return {};
  const auto rest = base.substr(tilde + 1);  // TAG, or TAG.ext
  const auto tag = rest.substr(0, 15);
  if (!parse_version_tag(tag)) return {};
  const auto ext = rest.substr(tag.size());
  if (!ext.empty() && (ext.front() != '.' || ext.find('.', 1) != std::string_view::npos)) return {};
  const auto dir = tagged.substr(0, tagged.size() - base.size());
  return Untagged{std::string(dir) + std::string(base.substr(0, tilde)) + std::string(ext), std::string(tag)};
}

std::vector<std::string> versions_to_remove(const Versioning& v, const std::vector<KeptVersion>& versions,
                                            std::int64_t now) {
  std::vector<std::string> out;
  if (v.type == "trashcan") {
    if (v.cleanout_days <= 0) return out;
    const std::int64_t cutoff = now - v.cleanout_days * DAY;
    for (const auto& k : versions)
      if (k.time < cutoff) out.push_back(k.path);
    return out;
  }
  if (v.type != "simple" && v.type != "staggered") return out;
  std::map<std::string, std::vector<const KeptVersion*>> by_file;
  for (const auto& k : versions)
    if (k.tagged) by_file[k.name].push_back(&k);
  for (auto& [name, list] : by_file) {
    std::sort(list.begin(), list.end(), [](const KeptVersion* a, const KeptVersion* b) {
      return a->time != b->time ? a->time < b->time : a->path < b->path;
    });
    if (v.type == "simple") {
      const std::size_t keep = static_cast<std::size_t>(std::max<std::int64_t>(v.keep, 1));
      for (std::size_t i = 0; i < list.size(); ++i) {
        const bool beyond = list.size() - i > keep;  // counted from the newest
        const bool old = v.cleanout_days > 0 && now - list[i]->time > v.cleanout_days * DAY;
        if (beyond || old) out.push_back(list[i]->path);
      }
      continue;
    }
    const std::int64_t max_age = v.max_age_days * DAY;
    const std::array<Interval, 4> intervals{
        {{30, 60 * 60}, {60 * 60, DAY}, {DAY, 30 * DAY}, {7 * DAY, max_age}}};
    bool first = true;
    std::int64_t prev_age = 0;
    for (const auto* k : list) {  // oldest first
      const std::int64_t age = now - k->time;
      if (max_age > 0 && age > max_age) {
        out.push_back(k->path);
        continue;
      }
      if (first) {  // the oldest version left is always kept
        first = false;
        prev_age = age;
        continue;
      }
      Interval used = intervals.back();
      for (const auto& i : intervals)
        if (age < i.end) {
          used = i;
          break;
        }
      if (prev_age - age < used.step) {
        out.push_back(k->path);
        continue;
      }
      prev_age = age;
    }
  }
  return out;
}

}  // namespace kith::sync
