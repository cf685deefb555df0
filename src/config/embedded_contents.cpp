#include "config/embedded_contents.hpp"

#include <openssl/evp.h>

#include <array>

#include "config/encoding.hpp"
#include "core/hex.hpp"

namespace ramfleet::config {

namespace {
std::string digest_hex(const EVP_MD* md, const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr);
  return to_hex(ByteView(out.data(), len));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}
}  // namespace

std::optional<EmbeddedBytes> embedded_bytes(const Resource& r, const std::string& target, DiagnosticCollector& diag) {
  EmbeddedBytes out;
  if (r.source) {
    auto decoded = decode_data_url(*r.source);
    if (!decoded) {
      diag.error(r.at, "remote source '" + *r.source + "' cannot be expressed in " + target +
                           " (only Ignition fetches at boot); use inline or local contents");
      return std::nullopt;
    }
    out.raw = std::move(*decoded);
  } else {
    out.raw = r.data.value_or("");
  }
  // Ignition verifies the hash of the data as fetched (before decompression).
  if (r.verification_hash.set()) {
    const std::string& h = *r.verification_hash;
    auto dash = h.find('-');
    std::string fn = h.substr(0, dash);
    const EVP_MD* md = fn == "sha512" ? EVP_sha512() : fn == "sha256" ? EVP_sha256() : nullptr;
    if (md != nullptr && digest_hex(md, out.raw) != lower(h.substr(dash + 1))) {
      diag.error(r.verification_hash.at,
                 "verification hash does not match the contents (" + fn + " is " + digest_hex(md, out.raw) + ")");
      return std::nullopt;
    }
  }
  out.gzip = r.compression.set() && *r.compression == "gzip";
  if (out.gzip) {
    auto plain = gzip_decompress(out.raw);
    if (!plain) {
      diag.error(r.compression.at, "contents are not valid gzip data");
      return std::nullopt;
    }
    out.plain = std::move(*plain);
  } else {
    out.plain = out.raw;
  }
  return out;
}

}  // namespace ramfleet::config
