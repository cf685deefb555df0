#pragma once
// SHA-256 (OpenSSL's EVP): ETags of compiled configs, image and layer
// digests, the kubeadm discovery hash. One-shot for text in memory, a hasher
// for streams that never sit in memory whole.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/bytes.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace ramfleet {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(ByteView data);
Sha256Digest sha256(std::string_view data);
// The digest as 64 lower-case hex digits.
std::string sha256_hex(ByteView data);
std::string sha256_hex(std::string_view data);

// Incremental SHA-256. Throws std::runtime_error when OpenSSL cannot set it up.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(ByteView data);
  // The digest of everything given so far; the hasher then starts over.
  Sha256Digest finish();

 private:
  struct FreeContext {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, FreeContext> ctx_;
};

}  // namespace ramfleet
