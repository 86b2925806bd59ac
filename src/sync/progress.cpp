#include "sync/progress.hpp"

#include <algorithm>
#include <set>

#include "base/terminal.hpp"
#include "sync/names.hpp"
#include "sync/version.hpp"

namespace kith::sync {

namespace {
ProgressUpdate forget(const std::string& name, const std::vector<store::SyncCounter>& version) {
  ProgressUpdate u;
  u.forget = true;
  u.name = name;
  u.version = version;
  return u;
}

ProgressUpdate append(const PullingFile& f, std::size_t from) {
  ProgressUpdate u;
  u.name = f.name;
  u.version = f.version;
  u.block_size = f.block_size;
  u.indexes.assign(f.available.begin() + static_cast<std::ptrdiff_t>(from), f.available.end());
  return u;
}

constexpr std::size_t MAX_VERSION_COUNTERS = 1024;  // as an index entry's (file_info.cpp)
}  // namespace

std::vector<ProgressUpdate> SentProgress::update(const std::vector<PullingFile>& now) {
  std::vector<ProgressUpdate> out;
  std::set<std::string> seen;
  for (const auto& f : now) {
    seen.insert(f.name);
    auto it = m_told.find(f.name);
    if (it == m_told.end()) {
      if (f.available.empty()) continue;  // nothing to tell yet
      out.push_back(append(f, 0));
      m_told[f.name] = Told{f.version, f.serial, f.available.size()};
      continue;
    }
    Told& told = it->second;
    // Another version, or a new try of the same one (its temporary file read again: another order):
    // what was said goes, and all of it is said again.
    if (told.version != f.version || told.serial != f.serial || f.available.size() < told.blocks) {
      out.push_back(forget(f.name, told.version));
      if (f.available.empty()) {
        m_told.erase(it);
        continue;
      }
      out.push_back(append(f, 0));
      told = Told{f.version, f.serial, f.available.size()};
      continue;
    }
    if (f.available.size() > told.blocks) {  // `available` only grows: the new ones are at its end
      out.push_back(append(f, told.blocks));
      told.blocks = f.available.size();
    }
  }
  for (auto it = m_told.begin(); it != m_told.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    out.push_back(forget(it->first, it->second.version));  // done, failed or held back
    it = m_told.erase(it);
  }
  return out;
}

std::vector<ProgressUpdate> SentProgress::forget_all() {
  std::vector<ProgressUpdate> out;
  for (const auto& [name, told] : m_told) out.push_back(forget(name, told.version));
  m_told.clear();
  return out;
}

bep::pb::DownloadProgress to_wire(const std::string& folder, const std::vector<ProgressUpdate>& updates) {
  bep::pb::DownloadProgress out;
  out.set_folder(folder);
  for (const auto& u : updates) {
    auto* w = out.add_updates();
    w->set_update_type(u.forget ? bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_FORGET
                                : bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_APPEND);
    w->set_name(u.name);
    for (const auto& c : u.version) {
      auto* counter = w->mutable_version()->add_counters();
      counter->set_id(c.id);
      counter->set_value(c.value);
    }
    if (!u.forget) {
      w->set_block_size(u.block_size);
      for (auto i : u.indexes) w->add_block_indexes(i);
    }
  }
  return out;
}

// --- receiving ---

Received to_updates(const bep::pb::DownloadProgress& msg, const ReceivedLimits& limits) {
  Received out;
  if (static_cast<std::size_t>(msg.updates_size()) > limits.updates_per_message) {
    out.refused = static_cast<std::size_t>(msg.updates_size());
    out.problem = "too many updates (" + std::to_string(msg.updates_size()) + ", at most " +
                  std::to_string(limits.updates_per_message) + ")";
    return out;
  }
  auto refuse = [&](const std::string& name, const std::string& why) {
    if (out.refused++ == 0) out.problem = "\"" + base::terminal_safe(name.substr(0, 200)) + "\": " + why;
  };
  for (const auto& w : msg.updates()) {
    ProgressUpdate u;
    u.name = w.name();
    if (auto ok = check_name(u.name); !ok) {
      refuse(u.name, ok.error().message);
      continue;
    }
    if (w.update_type() == bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_FORGET) {
      u.forget = true;
    } else if (w.update_type() != bep::pb::FILE_DOWNLOAD_PROGRESS_UPDATE_TYPE_APPEND) {
      refuse(u.name, "unknown update type " + std::to_string(static_cast<int>(w.update_type())));
      continue;
    }
    if (static_cast<std::size_t>(w.version().counters_size()) > MAX_VERSION_COUNTERS) {
      refuse(u.name, "version vector too long");
      continue;
    }
    for (const auto& c : w.version().counters()) u.version.push_back({c.id(), c.value()});
    std::sort(u.version.begin(), u.version.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    if (!well_formed(u.version)) {
      refuse(u.name, "malformed version vector");
      continue;
    }
    if (!u.forget) {
      const std::int32_t bs = w.block_size();
      if (bs < (128 << 10) || bs > (16 << 20) || (bs & (bs - 1)) != 0) {
        refuse(u.name, "block size " + std::to_string(bs) + " is not a power of two from 128 KiB to 16 MiB");
        continue;
      }
      u.block_size = bs;
      const bool in_range = std::all_of(w.block_indexes().begin(), w.block_indexes().end(),
                                        [&](std::int32_t i) { return i >= 0 && i <= limits.max_index; });
      if (!in_range) {
        refuse(u.name, "a block index out of range");
        continue;
      }
      u.indexes.assign(w.block_indexes().begin(), w.block_indexes().end());
    }
    out.updates.push_back(std::move(u));
  }
  return out;
}

void ReceivedProgress::erase(std::map<std::string, File>& files, std::map<std::string, File>::iterator it) {
  m_indexes -= it->second.indexes.size();
  --m_files;
  files.erase(it);
}

std::size_t ReceivedProgress::apply(const std::string& folder, const std::vector<ProgressUpdate>& updates) {
  std::size_t dropped = 0;
  auto& files = m_folders[folder];
  for (const auto& u : updates) {
    auto it = files.find(u.name);
    if (u.forget) {
      // Syncthing forgets the file whatever version the FORGET names.
      if (it != files.end()) erase(files, it);
      continue;
    }
    if (it != files.end() && (it->second.version != u.version || it->second.block_size != u.block_size)) {
      erase(files, it);  // another version: what it said of the old one is void
      it = files.end();
    }
    if (it == files.end()) {
      if (m_files >= m_limits.files) {
        ++dropped;
        continue;
      }
      it = files.emplace(u.name, File{u.version, u.block_size, {}}).first;
      ++m_files;
    }
    auto& have = it->second.indexes;
    std::vector<std::int32_t> add(u.indexes);
    std::sort(add.begin(), add.end());
    add.erase(std::unique(add.begin(), add.end()), add.end());
    std::vector<std::int32_t> merged;
    merged.reserve(have.size() + add.size());
    std::set_union(have.begin(), have.end(), add.begin(), add.end(), std::back_inserter(merged));
    const std::size_t grown = merged.size() - have.size();
    if (m_indexes + grown > m_limits.indexes) {
      ++dropped;
      continue;
    }
    m_indexes += grown;
    have = std::move(merged);
  }
  if (files.empty()) m_folders.erase(folder);
  return dropped;
}

void ReceivedProgress::forget_folder(const std::string& folder) {
  auto f = m_folders.find(folder);
  if (f == m_folders.end()) return;
  while (!f->second.empty()) erase(f->second, f->second.begin());
  m_folders.erase(f);
}

const std::vector<std::int32_t>* ReceivedProgress::blocks(
    const std::string& folder, const std::string& name,
    const std::vector<store::SyncCounter>& version) const {
  auto f = m_folders.find(folder);
  if (f == m_folders.end()) return nullptr;
  auto it = f->second.find(name);
  if (it == f->second.end() || it->second.version != version) return nullptr;
  return &it->second.indexes;
}

}  // namespace kith::sync
