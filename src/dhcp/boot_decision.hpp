#pragma once
// Which boot file a client gets, as a pure function of what it told us (arch,
// vendor class, user class) and which files the TFTP roots hold.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dhcp/client_request.hpp"
#include "dhcp/settings.hpp"

namespace ramfleet::dhcp {

// RFC 4578 / IANA processor architecture types (option 93).
namespace arch {
inline constexpr std::uint16_t bios = 0;
inline constexpr std::uint16_t efi_ia32 = 6;
inline constexpr std::uint16_t efi_bc = 7;  // EFI byte code, used by x64 firmware in practice
inline constexpr std::uint16_t efi_x64 = 9;
inline constexpr std::uint16_t efi_arm32 = 10;
inline constexpr std::uint16_t efi_arm64 = 11;
inline constexpr std::uint16_t efi_x64_http = 16;
inline constexpr std::uint16_t efi_arm64_http = 19;
}  // namespace arch

struct BootDecision {
  enum class Kind {
    none,  // not a network-boot client, or nothing we can hand it: send no boot information
    tftp,  // firmware PXE: file is a name in the TFTP root
    http,  // UEFI HTTP boot or iPXE: file is an http:// URL
  };
  Kind kind = Kind::none;
  std::string file;
  std::string vendor_class;  // echoed as option 60: "PXEClient" or "HTTPClient"; empty for iPXE
  std::string reason;        // why (for logs and counters): "bios", "ipxe", "no_file_for_arch" ...
};

using FileExists = std::function<bool(std::string_view name)>;

BootDecision decide_boot(const ClientRequest& client, const Settings& settings, const FileExists& exists);

// http://<server>[:port]/<path>
std::string http_url(const Settings& settings, std::string_view path);

}  // namespace ramfleet::dhcp
