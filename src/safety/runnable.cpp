#include "safety/runnable.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <map>

namespace kith::safety {
namespace {

// Extensions people get tricked into opening. Lower case, without the dot.
const std::map<std::string, const char*>& extension_kinds() {
  static const std::map<std::string, const char*> KINDS = {
      {"exe", "Windows executable"},
      {"dll", "Windows library"},
      {"com", "DOS executable"},
      {"scr", "Windows screen saver"},
      {"cpl", "Windows control panel"},
      {"msi", "Windows installer"},
      {"msp", "Windows installer"},
      {"msix", "Windows installer"},
      {"appx", "Windows installer"},
      {"bat", "batch script"},
      {"cmd", "batch script"},
      {"ps1", "PowerShell script"},
      {"psm1", "PowerShell script"},
      {"vbs", "VBScript"},
      {"vbe", "VBScript"},
      {"js", "JavaScript (runs in Windows Script Host)"},
      {"jse", "JScript"},
      {"wsf", "Windows Script"},
      {"wsh", "Windows Script"},
      {"hta", "HTML application"},
      {"lnk", "Windows shortcut"},
      {"reg", "registry file"},
      {"jar", "Java archive"},
      {"apk", "Android package"},
      {"appimage", "Linux AppImage"},
      {"sh", "shell script"},
      {"bash", "shell script"},
      {"zsh", "shell script"},
      {"py", "Python script"},
      {"pl", "Perl script"},
      {"rb", "Ruby script"},
      {"run", "Linux installer"},
      {"deb", "Debian package"},
      {"rpm", "RPM package"},
      {"dmg", "macOS disk image"},
      {"pkg", "macOS installer"},
      {"docm", "Word file with macros"},
      {"dotm", "Word template with macros"},
      {"xlsm", "Excel file with macros"},
      {"xltm", "Excel template with macros"},
      {"xlam", "Excel add-in"},
      {"pptm", "PowerPoint file with macros"},
      {"potm", "PowerPoint template with macros"},
      {"ppam", "PowerPoint add-in"},
      {"sldm", "PowerPoint slide with macros"},
  };
  return KINDS;
}

std::optional<std::string> kind_by_magic(std::string_view head) {
  if (head.size() < 2) return std::nullopt;
  std::array<unsigned char, 4> b{};  // short files: the 4-byte checks below fail on the zeros
  for (std::size_t i = 0; i < b.size() && i < head.size(); ++i) b[i] = static_cast<unsigned char>(head[i]);
  if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F') return "ELF executable";
  if (b[0] == 'M' && b[1] == 'Z') return "Windows executable";
  if (b[0] == '#' && b[1] == '!') return "script";
  const std::uint32_t be =
      (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  // Mach-O (32/64-bit, either byte order) and universal binaries; 0xCAFEBABE is also a Java class.
  if (be == 0xFEEDFACE || be == 0xFEEDFACF || be == 0xCEFAEDFE || be == 0xCFFAEDFE) return "macOS executable";
  if (be == 0xCAFEBABE) return "macOS universal binary or Java class";
  return std::nullopt;
}

std::optional<std::string> kind_by_extension(const std::filesystem::path& name) {
  auto ext = name.extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto it = extension_kinds().find(ext); it != extension_kinds().end()) return std::string(it->second);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> runnable_kind(const std::filesystem::path& file) {
  return runnable_kind_named(file, file);
}

std::optional<std::string> runnable_kind_named(const std::filesystem::path& name,
                                               const std::filesystem::path& file) {
  if (auto kind = kind_by_extension(name)) return kind;
  std::ifstream in(file, std::ios::binary);
  std::array<char, 4> b{};
  in.read(b.data(), b.size());
  return kind_by_magic(
      std::string_view(b.data(), static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0))));
}

std::optional<std::string> runnable_kind(const std::filesystem::path& name, std::string_view head) {
  if (auto kind = kind_by_extension(name)) return kind;
  return kind_by_magic(head);
}

bool is_macro_alert(const std::string& detection) {
  return detection.find("ContainsMacros") != std::string::npos;
}

}  // namespace kith::safety
