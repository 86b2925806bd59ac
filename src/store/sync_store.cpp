#include "store/sync_store.hpp"

#include <algorithm>
#include <limits>

namespace kith::store {
namespace {

// The folder's and device's keys by their ids, inside one statement (?1 folder id, ?2 device id):
// an unknown folder or device matches no row, so reads of it find nothing.
constexpr const char* FOLDER_KEY = "(SELECT key FROM sync_folders WHERE id = ?1)";
constexpr const char* DEVICE_KEY =
    "(CASE WHEN ?2 = '' THEN 0 ELSE (SELECT key FROM sync_devices WHERE id = ?2) END)";

// An entry's columns (sync_files AS f), then, in listings with blocks, its block list (sync_file_blocks
// AS b, joined by FILE_TABLES_WITH_BLOCKS).
constexpr const char* FILE_COLUMNS =
    "f.name, f.type, f.size, f.permissions, f.modified_s, f.modified_ns, f.modified_by, f.deleted, "
    "f.invalid, "
    "f.no_permissions, f.version, f.sequence, f.block_size, f.symlink_target, f.inode, f.blocks_hash";
constexpr const char* BLOCKS_COLUMN = ", COALESCE(b.blocks, x'')";
constexpr const char* FILE_TABLE = " FROM sync_files f";
constexpr const char* FILE_TABLES_WITH_BLOCKS =
    " FROM sync_files f LEFT JOIN sync_file_blocks b ON b.fid = f.fid";

std::string select_files(Blocks blocks) {
  return blocks == Blocks::with
             ? std::string("SELECT ") + FILE_COLUMNS + BLOCKS_COLUMN + FILE_TABLES_WITH_BLOCKS
             : std::string("SELECT ") + FILE_COLUMNS + FILE_TABLE;
}

// Unsigned 64-bit values (short IDs, index IDs, inodes) are stored as SQLite's signed integers, bit
// for bit.
std::int64_t to_db(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t from_db(std::int64_t v) { return static_cast<std::uint64_t>(v); }

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get_be(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// A version vector: 16 bytes per counter (id, value; big-endian).
constexpr std::size_t COUNTER_BYTES = 16;

std::vector<std::uint8_t> encode_version(const std::vector<SyncCounter>& version) {
  std::vector<std::uint8_t> out;
  out.reserve(version.size() * COUNTER_BYTES);
  for (const auto& c : version) {
    put_be(out, c.id, 8);
    put_be(out, c.value, 8);
  }
  return out;
}

std::vector<SyncCounter> decode_version(const std::vector<std::uint8_t>& blob) {
  std::vector<SyncCounter> out;
  out.reserve(blob.size() / COUNTER_BYTES);
  for (std::size_t i = 0; i + COUNTER_BYTES <= blob.size(); i += COUNTER_BYTES)
    out.push_back({get_be(&blob[i], 8), get_be(&blob[i + 8], 8)});
  return out;
}

// A block list: 48 bytes per block (offset 8, size 4, weak hash 4, big-endian; then the 32-byte hash).
constexpr std::size_t BLOCK_BYTES = 48;

std::vector<std::uint8_t> encode_blocks(const std::vector<SyncBlock>& blocks) {
  std::vector<std::uint8_t> out;
  out.reserve(blocks.size() * BLOCK_BYTES);
  for (const auto& b : blocks) {
    put_be(out, static_cast<std::uint64_t>(b.offset), 8);
    put_be(out, static_cast<std::uint32_t>(b.size), 4);
    put_be(out, b.weak_hash, 4);
    out.insert(out.end(), b.hash.begin(), b.hash.end());
  }
  return out;
}

std::vector<SyncBlock> decode_blocks(const std::vector<std::uint8_t>& blob) {
  std::vector<SyncBlock> out;
  out.reserve(blob.size() / BLOCK_BYTES);
  for (std::size_t i = 0; i + BLOCK_BYTES <= blob.size(); i += BLOCK_BYTES) {
    SyncBlock b;
    b.offset = static_cast<std::int64_t>(get_be(&blob[i], 8));
    b.size = static_cast<std::int32_t>(static_cast<std::uint32_t>(get_be(&blob[i + 8], 4)));
    b.weak_hash = static_cast<std::uint32_t>(get_be(&blob[i + 12], 4));
    std::copy_n(&blob[i + 16], 32, b.hash.begin());
    out.push_back(b);
  }
  return out;
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

SyncFile file_from_row(const Row& r, const std::string& folder, const std::string& device) {
  SyncFile f;
  f.folder = folder;
  f.device = device;
  f.name = as_text(r[0]);
  f.type = static_cast<int>(as_int(r[1]));
  f.size = as_int(r[2]);
  f.permissions = static_cast<std::uint32_t>(as_int(r[3]));
  f.modified_s = as_int(r[4]);
  f.modified_ns = static_cast<std::int32_t>(as_int(r[5]));
  f.modified_by = from_db(as_int(r[6]));
  f.deleted = as_int(r[7]) != 0;
  f.invalid = as_int(r[8]) != 0;
  f.no_permissions = as_int(r[9]) != 0;
  f.version = decode_version(as_blob(r[10]));
  f.sequence = as_int(r[11]);
  f.block_size = static_cast<std::int32_t>(as_int(r[12]));
  auto target = as_blob(r[13]);
  f.symlink_target.assign(target.begin(), target.end());
  f.inode = from_db(as_int(r[14]));
  auto hash = as_blob(r[15]);  // NULL (not computed yet) reads as empty
  f.blocks_hash.assign(hash.begin(), hash.end());
  if (r.size() > 16) f.blocks = decode_blocks(as_blob(r[16]));
  return f;
}

// ?1 folder key, ?2 device key, then the file's columns in UPSERT_FILE's order.
std::vector<Value> file_params(std::int64_t folder_key, std::int64_t device_key, const SyncFile& f,
                               const std::string& blocks_hash) {
  return {folder_key,
          device_key,
          f.name,
          std::int64_t{f.type},
          f.size,
          std::int64_t{f.permissions},
          f.modified_s,
          std::int64_t{f.modified_ns},
          to_db(f.modified_by),
          std::int64_t{f.deleted},
          std::int64_t{f.invalid},
          std::int64_t{f.no_permissions},
          encode_version(f.version),
          f.sequence,
          std::int64_t{f.block_size},
          bytes_of(f.symlink_target),
          to_db(f.inode),
          bytes_of(blocks_hash)};
}

constexpr const char* UPSERT_FILE =
    "INSERT INTO sync_files (folder, device, name, type, size, permissions, modified_s, modified_ns, "
    "modified_by, deleted, invalid, no_permissions, version, sequence, block_size, symlink_target, "
    "inode, blocks_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
    "?18) "
    "ON CONFLICT (folder, device, name) DO UPDATE SET type = excluded.type, size = excluded.size, "
    "permissions = excluded.permissions, modified_s = excluded.modified_s, modified_ns = "
    "excluded.modified_ns, "
    "modified_by = excluded.modified_by, deleted = excluded.deleted, invalid = excluded.invalid, "
    "no_permissions = excluded.no_permissions, version = excluded.version, sequence = excluded.sequence, "
    "block_size = excluded.block_size, symlink_target = excluded.symlink_target, inode = excluded.inode, "
    "blocks_hash = excluded.blocks_hash RETURNING fid";
// An entry's block list beside it (sync_file_blocks: ?1 fid, ?2 blocks); no blocks, no row.
constexpr const char* UPSERT_BLOCKS =
    "INSERT INTO sync_file_blocks (fid, blocks) VALUES (?1, ?2) ON CONFLICT (fid) DO UPDATE SET blocks = "
    "excluded.blocks";
constexpr const char* REMOVE_BLOCKS = "DELETE FROM sync_file_blocks WHERE fid = ?1";

// The statements that store one entry, prepared once per transaction.
struct EntryWriter {
  Statement upsert, put_blocks, remove_blocks;

  // Stores `f` (its blocks encoded as `blocks`, their hash `hash`); returns its fid.
  Result<std::int64_t> write(std::int64_t folder_key, std::int64_t device_key, const SyncFile& f,
                             const std::vector<std::uint8_t>& blocks, const std::string& hash) {
    auto fid = upsert.query(file_params(folder_key, device_key, f, hash));
    if (!fid) return tl::unexpected(fid.error());
    if (fid->empty()) return fail(make_error_code(errc::query_failed), "upsert of an entry returned no row");
    const std::int64_t id = as_int((*fid)[0][0]);
    auto ok = blocks.empty() ? remove_blocks.exec({id}) : put_blocks.exec({id, blocks});
    if (!ok) return tl::unexpected(ok.error());
    return id;
  }
};

Result<EntryWriter> entry_writer(Transaction& t) {
  auto upsert = t.prepare(UPSERT_FILE);
  if (!upsert) return tl::unexpected(upsert.error());
  auto put = t.prepare(UPSERT_BLOCKS);
  if (!put) return tl::unexpected(put.error());
  auto remove = t.prepare(REMOVE_BLOCKS);
  if (!remove) return tl::unexpected(remove.error());
  return EntryWriter{std::move(*upsert), std::move(*put), std::move(*remove)};
}

// Whose blocks sync_blocks lists: this node's files that have their content.
bool indexes_blocks(bool deleted, bool invalid) { return !deleted && !invalid; }

Error not_found(const std::string& what) { return Error{base::make_error_code(base::errc::not_found), what}; }

Error invalid(const std::string& what) {
  return Error{base::make_error_code(base::errc::invalid_argument), what};
}

// The key of a folder or device that must exist; `Q` is a Database or a Transaction.
template <class Q>
Result<std::int64_t> folder_key(Q& q, const std::string& id) {
  auto rows = q.query("SELECT key FROM sync_folders WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return tl::unexpected(not_found("no sync folder " + id));
  return as_int((*rows)[0][0]);
}

template <class Q>
Result<std::int64_t> device_key(Q& q, const std::string& id) {
  if (id.empty()) return 0;
  auto rows = q.query("SELECT key FROM sync_devices WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return tl::unexpected(not_found("no sync device " + id));
  return as_int((*rows)[0][0]);
}

// Removes the sync_blocks rows of one local file, given its stored block list.
Status unindex_blocks(Statement& remove, std::int64_t fid, const std::vector<SyncBlock>& blocks) {
  for (const auto& b : blocks) {
    if (b.size <= 0) continue;
    if (auto r = remove.exec({std::vector<std::uint8_t>(b.hash.begin(), b.hash.end()), fid, b.offset}); !r)
      return r;
  }
  return {};
}

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += '\n';
    out += item;
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

SyncFolderRecord folder_from_row(const Row& r) {
  SyncFolderRecord f{as_text(r[0]),     as_text(r[1]),         as_text(r[2]), as_text(r[3]),
                     as_int(r[4]) != 0, from_db(as_int(r[5])), as_int(r[6])};
  f.versioning = {as_text(r[7]), as_int(r[8]), as_int(r[9]), as_int(r[10])};
  return f;
}

SyncDeviceRecord device_from_row(const Row& r) {
  return {as_text(r[0]), as_text(r[1]), split_lines(as_text(r[2])), as_int(r[3]), as_text(r[4])};
}

constexpr const char* FOLDER_COLUMNS =
    "id, label, path, type, paused, index_id, created_at, versioning, versioning_keep, "
    "versioning_max_age_days, versioning_cleanout_days";
constexpr const char* DEVICE_COLUMNS = "id, name, addresses, added_at, contact";

}  // namespace

Status SyncStore::put_folder(const SyncFolderRecord& f) {
  // An upsert, not INSERT OR REPLACE: that would delete the row and give the folder a new key,
  // orphaning its files.
  return m_db.exec(
      "INSERT INTO sync_folders (id, label, path, type, paused, index_id, created_at, versioning, "
      "versioning_keep, versioning_max_age_days, versioning_cleanout_days) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO UPDATE SET label = excluded.label, path = excluded.path, "
      "type = excluded.type, paused = excluded.paused, index_id = excluded.index_id, "
      "created_at = excluded.created_at, versioning = excluded.versioning, "
      "versioning_keep = excluded.versioning_keep, versioning_max_age_days = "
      "excluded.versioning_max_age_days, versioning_cleanout_days = excluded.versioning_cleanout_days",
      {f.id, f.label, f.path, f.type, std::int64_t{f.paused}, to_db(f.index_id), f.created_at,
       f.versioning.type, f.versioning.keep, f.versioning.max_age_days, f.versioning.cleanout_days});
}

Result<std::optional<SyncFolderRecord>> SyncStore::folder(const std::string& id) {
  auto rows = m_db.query(std::string("SELECT ") + FOLDER_COLUMNS + " FROM sync_folders WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<SyncFolderRecord>{};
  return std::optional<SyncFolderRecord>{folder_from_row((*rows)[0])};
}

Result<std::vector<SyncFolderRecord>> SyncStore::folders() {
  auto rows = m_db.query(std::string("SELECT ") + FOLDER_COLUMNS + " FROM sync_folders ORDER BY id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<SyncFolderRecord> out;
  for (const auto& r : *rows) out.push_back(folder_from_row(r));
  return out;
}

Status SyncStore::remove_folder(const std::string& id) {
  return m_db.transaction([&](Transaction& t) -> Status {
    auto rows = t.query("SELECT key FROM sync_folders WHERE id = ?1", {id});
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return {};  // already gone
    const std::int64_t key = as_int((*rows)[0][0]);
    // The block map by its primary key (hash, file, offset), from each local file's block list: a
    // DELETE by file would scan the whole map.
    auto local = t.query(
        "SELECT f.fid, b.blocks FROM sync_files f JOIN sync_file_blocks b ON b.fid = f.fid WHERE f.folder = "
        "?1 "
        "AND f.device = 0 AND f.deleted = 0 AND f.invalid = 0",
        {key});
    if (!local) return tl::unexpected(local.error());
    auto remove = t.prepare("DELETE FROM sync_blocks WHERE hash = ?1 AND file = ?2 AND offset = ?3");
    if (!remove) return tl::unexpected(remove.error());
    for (const auto& r : *local)
      if (auto ok = unindex_blocks(*remove, as_int(r[0]), decode_blocks(as_blob(r[1]))); !ok) return ok;
    if (auto ok = t.exec("DELETE FROM sync_files WHERE folder = ?1", {key}); !ok) return ok;
    if (auto ok = t.exec("DELETE FROM sync_shares WHERE folder = ?1", {key}); !ok) return ok;
    return t.exec("DELETE FROM sync_folders WHERE key = ?1", {key});
  });
}

Status SyncStore::put_device(const SyncDeviceRecord& d) {
  for (const auto& a : d.addresses)
    if (a.empty() || a.find('\n') != std::string::npos)
      return tl::unexpected(invalid("device " + d.id + ": an address is empty or has a line break"));
  return m_db.exec(
      "INSERT INTO sync_devices (id, name, addresses, added_at, contact) VALUES (?1, ?2, ?3, ?4, ?5) ON "
      "CONFLICT (id) DO UPDATE SET name = excluded.name, addresses = excluded.addresses, added_at = "
      "excluded.added_at, contact = excluded.contact",
      {d.id, d.name, join_lines(d.addresses), d.added_at, d.contact});
}

Result<std::optional<SyncDeviceRecord>> SyncStore::device(const std::string& id) {
  auto rows = m_db.query(std::string("SELECT ") + DEVICE_COLUMNS + " FROM sync_devices WHERE id = ?1", {id});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<SyncDeviceRecord>{};
  return std::optional<SyncDeviceRecord>{device_from_row((*rows)[0])};
}

Result<std::vector<SyncDeviceRecord>> SyncStore::devices() {
  auto rows = m_db.query(std::string("SELECT ") + DEVICE_COLUMNS + " FROM sync_devices ORDER BY id");
  if (!rows) return tl::unexpected(rows.error());
  std::vector<SyncDeviceRecord> out;
  for (const auto& r : *rows) out.push_back(device_from_row(r));
  return out;
}

Status SyncStore::remove_device(const std::string& id) {
  if (id.empty()) return tl::unexpected(invalid("remove_device: \"\" is this node"));
  return m_db.transaction([&](Transaction& t) -> Status {
    auto rows = t.query("SELECT key FROM sync_devices WHERE id = ?1", {id});
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty()) return {};
    const std::int64_t key = as_int((*rows)[0][0]);
    // `folder IN (all folders)` lets the (folder, device, name) index serve this DELETE: device is its
    // second column. Folders are few.
    if (auto ok = t.exec(
            "DELETE FROM sync_files WHERE folder IN (SELECT key FROM sync_folders) AND device = ?1", {key});
        !ok)
      return ok;
    if (auto ok = t.exec("DELETE FROM sync_shares WHERE device = ?1", {key}); !ok) return ok;
    return t.exec("DELETE FROM sync_devices WHERE key = ?1", {key});
  });
}

Status SyncStore::share(const std::string& folder, const std::string& device) {
  if (device.empty()) return tl::unexpected(invalid("share: \"\" is this node"));
  return m_db.transaction([&](Transaction& t) -> Status {
    auto fkey = folder_key(t, folder);
    if (!fkey) return tl::unexpected(fkey.error());
    auto dkey = device_key(t, device);
    if (!dkey) return tl::unexpected(dkey.error());
    return t.exec("INSERT OR IGNORE INTO sync_shares (folder, device) VALUES (?1, ?2)", {*fkey, *dkey});
  });
}

Status SyncStore::unshare(const std::string& folder, const std::string& device) {
  if (device.empty()) return tl::unexpected(invalid("unshare: \"\" is this node"));
  return m_db.transaction([&](Transaction& t) -> Status {
    const std::vector<Value> ids{folder, device};
    if (auto ok = t.exec(std::string("DELETE FROM sync_files WHERE folder = ") + FOLDER_KEY +
                             " AND device = " + DEVICE_KEY,
                         ids);
        !ok)
      return ok;
    return t.exec(
        std::string("DELETE FROM sync_shares WHERE folder = ") + FOLDER_KEY + " AND device = " + DEVICE_KEY,
        ids);
  });
}

Result<std::vector<SyncShare>> SyncStore::shares(const std::string& folder) {
  auto rows = m_db.query(
      "SELECT d.id, s.remote_index_id, s.remote_max_sequence FROM sync_shares s JOIN sync_devices d ON d.key "
      "= "
      "s.device WHERE s.folder = (SELECT key FROM sync_folders WHERE id = ?1) ORDER BY d.id",
      {folder});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<SyncShare> out;
  for (const auto& r : *rows) out.push_back({folder, as_text(r[0]), from_db(as_int(r[1])), as_int(r[2])});
  return out;
}

Status SyncStore::set_remote_index(const std::string& folder, const std::string& device,
                                   std::uint64_t index_id, std::int64_t max_sequence) {
  auto rows = m_db.query(std::string("UPDATE sync_shares SET remote_index_id = ?3, remote_max_sequence = ?4 "
                                     "WHERE folder = ") +
                             FOLDER_KEY + " AND device = " + DEVICE_KEY + " RETURNING 1",
                         {folder, device, to_db(index_id), max_sequence});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty())
    return tl::unexpected(not_found("sync folder " + folder + " is not shared with " + device));
  return {};
}

Result<std::vector<SyncFile>> SyncStore::put_local(const std::string& folder, std::vector<SyncFile> changed) {
  auto ok = m_db.transaction([&](Transaction& t) -> Status {
    auto fkey = folder_key(t, folder);
    if (!fkey) return tl::unexpected(fkey.error());
    auto max = t.query("SELECT COALESCE(MAX(sequence), 0) FROM sync_files WHERE folder = ?1 AND device = 0",
                       {*fkey});
    if (!max) return tl::unexpected(max.error());
    std::int64_t sequence = as_int((*max)[0][0]);

    auto old = t.prepare(
        "SELECT f.fid, COALESCE(b.blocks, x''), f.deleted, f.invalid FROM sync_files f LEFT JOIN "
        "sync_file_blocks b ON b.fid = f.fid WHERE f.folder = ?1 AND f.device = 0 AND f.name = ?2");
    auto writer = entry_writer(t);
    if (!writer) return tl::unexpected(writer.error());
    auto remove = t.prepare("DELETE FROM sync_blocks WHERE hash = ?1 AND file = ?2 AND offset = ?3");
    auto add =
        t.prepare("INSERT OR IGNORE INTO sync_blocks (hash, file, offset, size) VALUES (?1, ?2, ?3, ?4)");
    for (auto* s : {&old, &remove, &add})
      if (!*s) return tl::unexpected(s->error());

    for (auto& f : changed) {
      f.folder = folder;
      f.device.clear();
      f.sequence = ++sequence;
      f.blocks_hash = hash_of(f.blocks);
      auto blocks = encode_blocks(f.blocks);
      const bool index = indexes_blocks(f.deleted, f.invalid);

      auto before = old->query({*fkey, f.name});
      if (!before) return tl::unexpected(before.error());
      bool same_blocks = false;
      if (!before->empty()) {
        const auto& r = (*before)[0];
        const bool was_indexed = indexes_blocks(as_int(r[2]) != 0, as_int(r[3]) != 0);
        const auto old_blocks = as_blob(r[1]);
        same_blocks = was_indexed && index && old_blocks == blocks;
        if (was_indexed && !same_blocks)
          if (auto e = unindex_blocks(*remove, as_int(r[0]), decode_blocks(old_blocks)); !e) return e;
      }

      auto fid = writer->write(*fkey, 0, f, blocks, f.blocks_hash);
      if (!fid) return tl::unexpected(fid.error());
      if (!index || same_blocks) continue;
      const std::int64_t file_id = *fid;
      for (const auto& b : f.blocks) {
        if (b.size <= 0) continue;  // an empty file's one empty block holds no data to copy
        if (auto e = add->exec({std::vector<std::uint8_t>(b.hash.begin(), b.hash.end()), file_id, b.offset,
                                std::int64_t{b.size}});
            !e)
          return e;
      }
    }
    return {};
  });
  if (!ok) return tl::unexpected(ok.error());
  return changed;
}

Status SyncStore::set_local_inodes(const std::string& folder, const std::vector<SyncFile>& files) {
  return m_db.transaction([&](Transaction& t) -> Status {
    auto fkey = folder_key(t, folder);
    if (!fkey) return tl::unexpected(fkey.error());
    auto update =
        t.prepare("UPDATE sync_files SET inode = ?3 WHERE folder = ?1 AND device = 0 AND name = ?2");
    if (!update) return tl::unexpected(update.error());
    for (const auto& f : files)
      if (auto e = update->exec({*fkey, f.name, to_db(f.inode)}); !e) return e;
    return {};
  });
}

Status SyncStore::put_remote(const std::string& folder, const std::string& device,
                             const std::vector<SyncFile>& files) {
  if (device.empty()) return tl::unexpected(invalid("put_remote: \"\" is this node: use put_local"));
  return m_db.transaction([&](Transaction& t) -> Status {
    auto fkey = folder_key(t, folder);
    if (!fkey) return tl::unexpected(fkey.error());
    auto dkey = device_key(t, device);
    if (!dkey) return tl::unexpected(dkey.error());
    auto shared = t.query("SELECT 1 FROM sync_shares WHERE folder = ?1 AND device = ?2", {*fkey, *dkey});
    if (!shared) return tl::unexpected(shared.error());
    if (shared->empty())
      return tl::unexpected(not_found("sync folder " + folder + " is not shared with " + device));
    auto writer = entry_writer(t);
    if (!writer) return tl::unexpected(writer.error());
    for (const auto& f : files)
      if (auto e = writer->write(*fkey, *dkey, f, encode_blocks(f.blocks), hash_of(f.blocks)); !e)
        return tl::unexpected(e.error());
    return {};
  });
}

Status SyncStore::drop_remote(const std::string& folder, const std::string& device) {
  if (device.empty()) return tl::unexpected(invalid("drop_remote: \"\" is this node"));
  return m_db.exec(
      std::string("DELETE FROM sync_files WHERE folder = ") + FOLDER_KEY + " AND device = " + DEVICE_KEY,
      {folder, device});
}

Result<std::optional<SyncFile>> SyncStore::file(const std::string& folder, const std::string& device,
                                                const std::string& name, Blocks blocks) {
  auto rows = m_db.query(select_files(blocks) + " WHERE f.folder = " + FOLDER_KEY +
                             " AND f.device = " + DEVICE_KEY + " AND f.name = ?3",
                         {folder, device, name});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<SyncFile>{};
  return std::optional<SyncFile>{file_from_row((*rows)[0], folder, device)};
}

Result<std::vector<SyncFile>> SyncStore::files(const std::string& folder, const std::string& device,
                                               Blocks blocks) {
  auto rows = m_db.query(select_files(blocks) + " WHERE f.folder = " + FOLDER_KEY +
                             " AND f.device = " + DEVICE_KEY + " ORDER BY f.name",
                         {folder, device});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<SyncFile> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(file_from_row(r, folder, device));
  return out;
}

Result<std::vector<SyncFile>> SyncStore::since(const std::string& folder, const std::string& device,
                                               std::int64_t after_sequence, std::size_t limit,
                                               std::size_t max_blocks) {
  const auto max = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  const std::string range = std::string(" WHERE f.folder = ") + FOLDER_KEY + " AND f.device = " + DEVICE_KEY +
                            " AND f.sequence > ?3 AND f.sequence <= ?5 ORDER BY f.sequence LIMIT ?4";
  std::int64_t up_to = std::numeric_limits<std::int64_t>::max();
  if (max_blocks != SIZE_MAX && limit > 0) {
    // First only the sizes of the block lists (length() reads no blob), to know where to stop.
    auto sizes = m_db.query(
        "SELECT f.sequence, COALESCE(length(b.blocks), 0)" + std::string(FILE_TABLES_WITH_BLOCKS) + range,
        {folder, device, after_sequence, static_cast<std::int64_t>(std::min(limit, max)), up_to});
    if (!sizes) return tl::unexpected(sizes.error());
    std::size_t blocks = 0;
    for (const auto& r : *sizes) {
      const auto n = static_cast<std::size_t>(as_int(r[1])) / BLOCK_BYTES;
      if (blocks > 0 && blocks + n > max_blocks) break;
      blocks += n;
      up_to = as_int(r[0]);
    }
  }
  auto rows =
      m_db.query(select_files(Blocks::with) + range,
                 {folder, device, after_sequence, static_cast<std::int64_t>(std::min(limit, max)), up_to});
  if (!rows) return tl::unexpected(rows.error());
  std::vector<SyncFile> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(file_from_row(r, folder, device));
  return out;
}

Result<std::int64_t> SyncStore::max_sequence(const std::string& folder, const std::string& device) {
  auto rows = m_db.query(std::string("SELECT COALESCE(MAX(sequence), 0) FROM sync_files WHERE folder = ") +
                             FOLDER_KEY + " AND device = " + DEVICE_KEY,
                         {folder, device});
  if (!rows) return tl::unexpected(rows.error());
  return rows->empty() ? 0 : as_int((*rows)[0][0]);
}

Result<std::size_t> SyncStore::fill_blocks_hashes() {
  constexpr std::int64_t BATCH = 32;  // entries per transaction: their block lists are in memory at once
  std::size_t filled = 0;
  for (;;) {
    std::size_t batch = 0;
    auto ok = m_db.transaction([&](Transaction& t) -> Status {
      auto rows = t.query(
          "SELECT f.fid, COALESCE(b.blocks, x'') FROM sync_files f LEFT JOIN sync_file_blocks b ON b.fid = "
          "f.fid WHERE f.blocks_hash IS NULL ORDER BY f.fid LIMIT ?1",
          {BATCH});
      if (!rows) return tl::unexpected(rows.error());
      auto update = t.prepare("UPDATE sync_files SET blocks_hash = ?2 WHERE fid = ?1");
      if (!update) return tl::unexpected(update.error());
      for (const auto& r : *rows)
        if (auto e = update->exec({as_int(r[0]), bytes_of(hash_of(decode_blocks(as_blob(r[1]))))}); !e)
          return e;
      batch = rows->size();
      return {};
    });
    if (!ok) return tl::unexpected(ok.error());
    filled += batch;
    if (batch < static_cast<std::size_t>(BATCH)) return filled;
  }
}

std::string SyncStore::hash_of(const std::vector<SyncBlock>& blocks) const {
  return blocks.empty() || !m_hasher ? std::string() : m_hasher(blocks);
}

Result<std::optional<BlockLocation>> SyncStore::find_block(const std::string& folder,
                                                           const std::array<std::uint8_t, 32>& hash) {
  auto rows = m_db.query(
      "SELECT f.name, b.offset, b.size FROM sync_blocks b JOIN sync_files f ON f.fid = b.file "
      "WHERE b.hash = ?2 AND f.folder = (SELECT key FROM sync_folders WHERE id = ?1) AND f.device = 0 "
      "AND f.deleted = 0 AND f.invalid = 0 LIMIT 1",
      {folder, std::vector<std::uint8_t>(hash.begin(), hash.end())});
  if (!rows) return tl::unexpected(rows.error());
  if (rows->empty()) return std::optional<BlockLocation>{};
  const auto& r = (*rows)[0];
  return std::optional<BlockLocation>{
      BlockLocation{as_text(r[0]), as_int(r[1]), static_cast<std::int32_t>(as_int(r[2]))}};
}

}  // namespace kith::store
