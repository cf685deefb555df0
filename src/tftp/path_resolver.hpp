#pragma once
// Maps a TFTP file name onto a file inside one of the configured roots, and
// refuses anything that could reach outside them. Decisions (see docs/tftp.md):
//  - A leading '/' (one or more) is stripped: firmware and boot loaders often
//    ask for "/pxelinux.0" or "/boot/grub/grub.cfg" meaning "from the TFTP
//    root", as tftpd-hpa -s and dnsmasq do. So "/etc/passwd" is looked up as
//    <root>/etc/passwd, never the host's file.
//  - Backslashes are treated as separators (Windows-style PXE configs ask for
//    "boot\x64\wdsmgfw.efi"), then checked like any other path.
//  - ".." components, NUL bytes and empty names are refused (access violation).
//  - Symlinks inside a root are followed only while the canonical target stays
//    inside that same root's canonical path; otherwise access violation.
//  - Only regular files are served.
//  - Roots are searched in order; the first that has the name serves it.
// Portable (std::filesystem). The socket layer re-checks the opened file
// descriptor's real path to close the check-then-open race.
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tftp/packet.hpp"

namespace ramfleet::tftp {

struct ResolvedPath {
  std::filesystem::path path;  // canonical, inside root
  std::filesystem::path root;  // canonical root it was found in
};

struct PathRefusal {
  ErrorCode code = ErrorCode::access_violation;  // access_violation or file_not_found
  std::string reason;
};

using Resolution = std::variant<ResolvedPath, PathRefusal>;

class PathResolver {
 public:
  // Roots that do not exist are kept out of the search (missing_roots() lists them).
  explicit PathResolver(const std::vector<std::filesystem::path>& roots);

  [[nodiscard]] Resolution resolve(std::string_view requested) const;

  // Lexical checks only: the relative path to look up in each root, or a refusal.
  static std::variant<std::filesystem::path, PathRefusal> normalize(std::string_view requested);

  // True when canonical is strictly below canonical_root (component-wise, not by string prefix).
  static bool is_inside(const std::filesystem::path& canonical, const std::filesystem::path& canonical_root);

  [[nodiscard]] const std::vector<std::filesystem::path>& roots() const { return roots_; }
  [[nodiscard]] const std::vector<std::filesystem::path>& missing_roots() const { return missing_; }

 private:
  std::vector<std::filesystem::path> roots_;  // canonical
  std::vector<std::filesystem::path> missing_;
};

}  // namespace ramfleet::tftp
