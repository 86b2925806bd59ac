#include "sync/file_info.hpp"

#include <algorithm>

#include "sync/blocks.hpp"
#include "sync/names.hpp"

namespace kith::sync {
namespace {
Error bad(const std::string& name, const std::string& why) {
  return Error{base::make_error_code(base::errc::bad_input),
               "index entry \"" + name.substr(0, 200) + "\": " + why};
}
}  // namespace

bep::pb::FileInfo to_wire(const store::SyncFile& f) {
  bep::pb::FileInfo out;
  out.set_name(f.name);
  out.set_type(static_cast<bep::pb::FileInfoType>(f.type));
  out.set_size(f.size);
  out.set_permissions(f.permissions);
  out.set_modified_s(f.modified_s);
  out.set_modified_ns(f.modified_ns);
  out.set_modified_by(f.modified_by);
  out.set_deleted(f.deleted);
  out.set_invalid(f.invalid);
  out.set_no_permissions(f.no_permissions);
  out.set_sequence(f.sequence);
  out.set_block_size(f.block_size);
  for (const auto& c : f.version) {
    auto* counter = out.mutable_version()->add_counters();
    counter->set_id(c.id);
    counter->set_value(c.value);
  }
  for (const auto& b : f.blocks) {
    auto* block = out.add_blocks();
    block->set_offset(b.offset);
    block->set_size(b.size);
    block->set_hash(std::string(reinterpret_cast<const char*>(b.hash.data()), b.hash.size()));
    if (b.weak_hash) block->set_weak_hash(b.weak_hash);
  }
  if (!f.blocks.empty()) out.set_blocks_hash(blocks_hash(f.blocks));
  if (!f.symlink_target.empty()) out.set_symlink_target(f.symlink_target);
  return out;
}

Result<store::SyncFile> from_wire(const bep::pb::FileInfo& in, const std::string& folder,
                                  const std::string& device) {
  store::SyncFile f;
  f.folder = folder;
  f.device = device;
  f.name = in.name();
  if (auto ok = check_name(f.name); !ok) return tl::unexpected(bad(f.name, ok.error().message));
  const int type = static_cast<int>(in.type());
  if (type != 0 && type != 1 && type != 4)
    return tl::unexpected(bad(f.name, "unsupported type " + std::to_string(type)));
  f.type = type;
  f.size = in.size();
  f.permissions = in.permissions() & 07777;
  f.modified_s = in.modified_s();
  f.modified_ns = in.modified_ns();
  f.modified_by = in.modified_by();
  f.deleted = in.deleted();
  f.invalid = in.invalid();
  f.no_permissions = in.no_permissions();
  f.sequence = in.sequence();
  f.block_size = in.block_size();
  if (f.size < 0) return tl::unexpected(bad(f.name, "negative size"));
  if (f.sequence < 0) return tl::unexpected(bad(f.name, "negative sequence"));
  if (in.version().counters_size() > static_cast<int>(MAX_VERSION_COUNTERS))
    return tl::unexpected(bad(f.name, "version vector too long"));
  for (const auto& c : in.version().counters()) f.version.push_back({c.id(), c.value()});
  std::sort(f.version.begin(), f.version.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (in.symlink_target().size() > MAX_SYMLINK_TARGET)
    return tl::unexpected(bad(f.name, "symlink target too long"));
  f.symlink_target = in.symlink_target();
  if (f.type != 0 || f.deleted || f.invalid) return f;  // no blocks to check (and none kept)
  // An empty file is one block of size 0 (what Syncthing 1.19 sends and requires).
  const bool empty = f.size == 0 && in.blocks_size() == 1 && in.blocks(0).size() == 0;
  if (f.block_size == 0 && in.blocks_size() > 0)
    f.block_size = in.blocks(0).size();  // older peers leave it unset
  if (!empty && in.blocks_size() > 0 && (f.block_size < MIN_BLOCK_SIZE || f.block_size > MAX_BLOCK_SIZE))
    return tl::unexpected(bad(f.name, "block size " + std::to_string(f.block_size) + " out of range"));
  if (empty && f.block_size == 0) f.block_size = MIN_BLOCK_SIZE;
  std::int64_t offset = 0;
  f.blocks.reserve(static_cast<std::size_t>(in.blocks_size()));
  for (int i = 0; i < in.blocks_size(); ++i) {
    const auto& b = in.blocks(i);
    if (b.hash().size() != 32) return tl::unexpected(bad(f.name, "a block hash is not 32 bytes"));
    if (b.offset() != offset) return tl::unexpected(bad(f.name, "block offsets do not follow each other"));
    const bool last = i + 1 == in.blocks_size();
    if ((b.size() <= 0 && !empty) || b.size() > f.block_size || (!last && b.size() != f.block_size))
      return tl::unexpected(bad(f.name, "a block's size does not match the block size"));
    store::SyncBlock block;
    block.offset = b.offset();
    block.size = b.size();
    block.weak_hash = b.weak_hash();
    std::copy(b.hash().begin(), b.hash().end(), block.hash.begin());
    f.blocks.push_back(block);
    offset += b.size();
  }
  if (offset != f.size) return tl::unexpected(bad(f.name, "blocks do not add up to the size"));
  return f;
}

}  // namespace kith::sync
