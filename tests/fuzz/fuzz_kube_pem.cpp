// libFuzzer target: PEM loading of the cluster's keys and certificates
// (kube::private_key_from_pem, certificate_from_pem) and what is read from a
// loaded certificate (common name, expiry, SPKI, key match). The first input
// byte picks the form: 0 the rest as PEM text; 1 the rest as DER wrapped in a
// CERTIFICATE block; 2 as DER in a PRIVATE KEY block (so the fuzzer mutates
// DER, not base64). Invariants: only CryptoError is thrown, never a prompt
// for a passphrase (no terminal read), no undefined behaviour.
// fuzz-options: -max_len=4096 -runs=50000
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kube/crypto.hpp"

using namespace ramfleet::kube;

namespace {
std::string pem_block(const char* label, std::string_view der) {
  std::string b64 = base64(der), out = std::string("-----BEGIN ") + label + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string text = data[0] % 3 == 0   ? std::string(rest)
                     : data[0] % 3 == 1 ? pem_block("CERTIFICATE", rest)
                                        : pem_block("PRIVATE KEY", rest);
  Pkey key;
  try {
    key = private_key_from_pem(text);
  } catch (const CryptoError&) {
  }
  try {
    auto cert = certificate_from_pem(text);
    (void)subject_common_name(*cert);
    (void)not_after(*cert);
    (void)subject_public_key_info_der(*cert);
    (void)certificate_der(*cert);
    if (key) (void)key_matches_certificate(*cert, *key);
  } catch (const CryptoError&) {
  }
  return 0;
}
