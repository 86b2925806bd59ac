#pragma once
// Files that can run code when opened: executables, scripts, installers, office files with macros.
// They are flagged everywhere (list, API, UI) even when the scan is clean, because a clean scan only
// means "no known malware", and a setting can hold them in quarantine too.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kith::safety {

// Why `file` can run code ("Windows executable", "shell script", ...), judged by its name and its
// first bytes; nullopt for data files. Reads at most a few bytes; an unreadable file is judged by name.
std::optional<std::string> runnable_kind(const std::filesystem::path& file);
// The same judgement by `name`, reading the first bytes of `file` (a temporary file with another name).
std::optional<std::string> runnable_kind_named(const std::filesystem::path& name,
                                               const std::filesystem::path& file);
// The same judgement from a name and the file's first bytes (`head`, at least 4 of them when the file
// has that many), for a file that is read through a stream rather than opened here.
std::optional<std::string> runnable_kind(const std::filesystem::path& name, std::string_view head);

// True for a libclamav detection name that only says "contains macros" (not malware by itself).
bool is_macro_alert(const std::string& detection);

}  // namespace kith::safety
