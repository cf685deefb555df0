#include "dhcp/boot_decision.hpp"

namespace ramfleet::dhcp {

std::string http_url(const Settings& settings, std::string_view path) {
  std::string url = "http://" + settings.server_address.str();
  if (settings.http_port != 80) url += ":" + std::to_string(settings.http_port);
  url += "/";
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  url += path;
  return url;
}

namespace {

BootDecision none(std::string reason) { return {BootDecision::Kind::none, "", "", std::move(reason)}; }

// The x86-64 UEFI binary: snponly.efi uses the firmware's own NIC driver; the
// full ipxe.efi is the fallback when a root lacks snponly.
std::string uefi_x64_file(const Settings& s, const FileExists& exists) {
  if (exists(s.boot_files.uefi_x64)) return s.boot_files.uefi_x64;
  if (exists(s.boot_files.uefi_x64_fallback)) return s.boot_files.uefi_x64_fallback;
  return {};
}

std::string arm64_file(const Settings& s, const FileExists& exists) {
  return exists(s.boot_files.uefi_arm64) ? s.boot_files.uefi_arm64 : std::string{};
}

}  // namespace

BootDecision decide_boot(const ClientRequest& c, const Settings& s, const FileExists& exists) {
  // Already running iPXE: hand it the script over HTTP. Checked first because
  // iPXE also sends PXEClient and an arch; answering those would chainload forever.
  if (c.is_ipxe()) return {BootDecision::Kind::http, http_url(s, s.boot_files.ipxe_script), "", "ipxe"};

  if (c.is_http()) {
    if (!c.arch) return none("http_no_arch");
    std::string file;
    if (*c.arch == arch::efi_x64_http) {
      file = uefi_x64_file(s, exists);
    } else if (*c.arch == arch::efi_arm64_http) {
      file = arm64_file(s, exists);
    } else {
      return none("http_unsupported_arch");
    }
    if (file.empty()) return none("no_file_for_arch");
    return {BootDecision::Kind::http, http_url(s, file), "HTTPClient", "uefi_http"};
  }

  if (!c.is_pxe()) return none("not_pxe");
  if (!c.arch) return none("pxe_no_arch");
  std::string file;
  std::string reason;
  switch (*c.arch) {
    case arch::bios:
      file = exists(s.boot_files.bios) ? s.boot_files.bios : std::string{};
      reason = "bios";
      break;
    case arch::efi_ia32:
    case arch::efi_bc:
    case arch::efi_x64:
      file = uefi_x64_file(s, exists);
      reason = "uefi_x64";
      break;
    case arch::efi_arm64:
      // Arch 10 (32-bit ARM UEFI) cannot run an arm64 binary, so only 11 maps here.
      file = arm64_file(s, exists);
      reason = "uefi_arm64";
      break;
    default:
      return none("pxe_unsupported_arch");
  }
  if (file.empty()) return none("no_file_for_arch");
  return {BootDecision::Kind::tftp, file, "PXEClient", reason};
}

}  // namespace ramfleet::dhcp
