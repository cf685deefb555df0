#pragma once
// What the storm's simulated iPXE reads from a boot script: the next script
// to chain to, or the kernel and initrds to fetch and the kernel's arguments.
// Only the commands ramfleet's and the reference's scripts use are understood
// (chain, kernel, initrd, boot, exit); settings like ${netX/mac} are expanded
// from the machine's facts, unknown ones expand to nothing, as iPXE does.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace storm {

// The facts iPXE would expand in a script: ${netX/mac}, ${uuid}, ...
struct IpxeFacts {
  std::string mac;  // 52:54:01:00:00:01
  std::string uuid;
  std::string buildarch = "i386";  // undionly.kpxe is a 32-bit BIOS build
  std::string platform = "pcbios";
  std::string ip;
};

struct IpxeScript {
  std::optional<std::string> chain;                // URL of the next script (absolute after resolve_url)
  std::optional<std::string> kernel;               // URL
  std::vector<std::string> initrds;                // URLs, in order
  std::map<std::string, std::string> kernel_args;  // key=value arguments (last one wins)
  bool exits = false;                              // `exit` before any kernel: the server has nothing to boot for us
};

// Expands ${name} and ${name:type} settings; :hexhyp spells a MAC with hyphens.
std::string expand_settings(const std::string& text, const IpxeFacts& facts);

// Reads a script; nullopt when it does not start with #!ipxe.
std::optional<IpxeScript> read_ipxe_script(const std::string& text, const IpxeFacts& facts);

// Resolves `ref` (absolute http URL or absolute path) against `base` (an http URL).
std::string resolve_url(const std::string& base, const std::string& ref);

struct HttpUrl {
  std::string host;  // dotted IPv4 address
  unsigned short port = 80;
  std::string target;  // path and query
};
std::optional<HttpUrl> parse_http_url(const std::string& url);

}  // namespace storm
