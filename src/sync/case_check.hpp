#pragma once
// Folders on file systems that do not tell upper from lower case (exFAT and FAT on USB sticks and SD
// cards; docs/sync.md § Case-insensitive file systems). There "Report.txt" and "report.txt" are one
// file: pulling both would put one over the other, the next scan would find the other gone, and that
// deletion would reach every device. So on such a folder each pulled name is checked against the
// names on disk first, and one that the file system would take for an entry spelt differently is
// refused (errc::case_conflict), as Syncthing does. Blocking: worker threads only.
#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace kith::sync {

// Whether the folder at `root` (holding its .stfolder) is on a file system that does not tell upper
// from lower case: ".STFOLDER" is found there although no entry is spelt so. False when it cannot be
// told (no .stfolder: the folder is in error anyway).
bool case_insensitive(const std::filesystem::path& root);

// Ok when every component of `name` (relative, '/'-separated, as check_name() accepts) is either
// missing on disk or present spelt exactly so. errc::case_conflict, naming the entry on disk, when
// the file system finds a component under another spelling (case, or Unicode normalisation). A
// component that cannot be looked at is left to the operation itself (ok here).
Status check_case(const std::filesystem::path& root, std::string_view name);

// `op()`, unless the folder is on a case-insensitive file system (`check`) and a component of `name` is
// spelt otherwise on disk: then errc::case_conflict and nothing is done.
template <class Op>
auto unless_case_conflict(bool check, const std::filesystem::path& root, std::string_view name, Op op)
    -> decltype(op()) {
  if (check)
    if (auto ok = check_case(root, name); !ok) return tl::unexpected(ok.error());
  return op();
}

// errc::case_conflict: `name` and `other` (`where` it is: "on disk", "being pulled") are one name on
// this file system; says what to do.
Error case_conflict(std::string_view name, std::string_view other, std::string_view where);

// The name lowered (Unicode simple case mapping): what the pull uses to keep two names that differ only in
// case from being written at the same time (the check above looks at the disk, which both pass while neither
// is there yet).
std::string fold_case(std::string_view name);

}  // namespace kith::sync
