#pragma once
// Thin RAII layer over OpenSSL 3 (EVP/X509): key generation, certificate
// issuance with explicit extensions, PEM/DER encoding, hashes and randomness.
// Everything here throws CryptoError (with OpenSSL's error queue) on failure:
// a failure means a bug or a corrupted state file, never ordinary input.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::kube {

class CryptoError : public std::runtime_error {
 public:
  explicit CryptoError(const std::string& what);
};

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

enum class KeyAlgorithm { rsa2048, ecdsa_p256, ed25519 };

Pkey generate_key(KeyAlgorithm algorithm);
[[nodiscard]] bool is_rsa(const EVP_PKEY& key);

// Private keys as PKCS#8 PEM ("PRIVATE KEY"): read by Go's crypto/tls (etcd,
// kube-*), OpenSSL and k3s alike.
std::string private_key_pem(const EVP_PKEY& key);
std::string public_key_pem(const EVP_PKEY& key);
Pkey private_key_from_pem(std::string_view pem);
std::string certificate_pem(const X509& cert);
Cert certificate_from_pem(std::string_view pem);
[[nodiscard]] bool key_matches_certificate(const X509& cert, const EVP_PKEY& key);
// Whether issuer's key signed cert and cert names issuer (issuer DN and key
// identifier), i.e. cert chains to issuer. No validity or usage checks.
[[nodiscard]] bool signed_by(const X509& cert, const X509& issuer);

using Clock = std::chrono::system_clock;

// What a certificate says about its subject; the issuer adds the rest.
struct CertProfile {
  std::string common_name;
  std::vector<std::string> organizations;
  bool is_ca = false;
  bool server_auth = false;
  bool client_auth = false;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 text
  Clock::duration validity = std::chrono::hours(24 * 365);
};

// Issues a certificate for subject_key. issuer == nullptr means self-signed
// (issuer_key must then be subject_key). Leaf certificates start at the
// issuer's notBefore, as kubeadm does, so a node whose clock lags the server's
// still accepts them; CAs start an hour back for the same reason.
Cert issue_certificate(const CertProfile& profile, const EVP_PKEY& subject_key, const X509* issuer,
                       const EVP_PKEY& issuer_key, Clock::time_point now);

// DER of the certificate's SubjectPublicKeyInfo (what kubeadm's discovery hash pins).
std::vector<std::uint8_t> subject_public_key_info_der(const X509& cert);
std::vector<std::uint8_t> certificate_der(const X509& cert);
Clock::time_point not_after(const X509& cert);
std::string subject_common_name(const X509& cert);

std::string base64(std::string_view data);
std::string random_bytes(std::size_t n);
// n characters drawn uniformly (rejection sampling) from alphabet.
std::string random_string(std::string_view alphabet, std::size_t n);
inline std::string_view as_chars(const std::vector<std::uint8_t>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

}  // namespace ramfleet::kube
