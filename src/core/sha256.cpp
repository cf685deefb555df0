#include "core/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/hex.hpp"

namespace ramfleet {

Sha256Digest sha256(ByteView data) {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size())
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  return out;
}

Sha256Digest sha256(std::string_view data) { return sha256(as_bytes(data)); }

std::string sha256_hex(ByteView data) { return to_hex(sha256(data)); }

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

void Sha256::FreeContext::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot initialise SHA-256 (OpenSSL)");
}

Sha256::~Sha256() = default;

void Sha256::update(ByteView data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1) throw std::runtime_error("SHA-256 update failed");
}

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 || len != out.size() ||
      EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 final failed (OpenSSL)");
  return out;
}

}  // namespace ramfleet
