#include "kube/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

namespace ramfleet::kube {

namespace {

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

template <typename T>
T* check(T* p, const char* what) {
  if (p == nullptr) throw CryptoError(what);
  return p;
}
void check(int rc, const char* what) {
  if (rc <= 0) throw CryptoError(what);
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio memory_bio() { return Bio(check(BIO_new(BIO_s_mem()), "BIO_new")); }
Bio read_bio(std::string_view data) {
  return Bio(check(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), "BIO_new_mem_buf"));
}
std::string bio_string(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return {data, static_cast<std::size_t>(n)};
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = check(X509V3_EXT_conf_nid(nullptr, ctx, nid, value), "X509V3_EXT_conf_nid");
  int rc = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(rc, "X509_add_ext");
}

void add_subject_alt_names(X509* cert, const CertProfile& p) {
  if (p.dns_names.empty() && p.ip_addresses.empty()) return;
  GENERAL_NAMES* names = check(sk_GENERAL_NAME_new_null(), "sk_GENERAL_NAME_new_null");
  auto push = [&](int type, ASN1_STRING* value) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr) {
      ASN1_STRING_free(value);
      throw CryptoError("GENERAL_NAME_new");
    }
    GENERAL_NAME_set0_value(gn, type, value);
    sk_GENERAL_NAME_push(names, gn);
  };
  try {
    for (const auto& dns : p.dns_names) {
      ASN1_IA5STRING* s = check(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new");
      ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size()));
      push(GEN_DNS, s);
    }
    for (const auto& ip : p.ip_addresses) {
      ASN1_OCTET_STRING* s = a2i_IPADDRESS(ip.c_str());
      if (s == nullptr) throw CryptoError("not an IP address: " + ip);
      push(GEN_IPADD, s);
    }
    check(X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT), "subjectAltName");
  } catch (...) {
    GENERAL_NAMES_free(names);
    throw;
  }
  GENERAL_NAMES_free(names);
}

void set_random_serial(X509* cert) {
  unsigned char raw[16];
  check(RAND_bytes(raw, sizeof raw), "RAND_bytes");
  raw[0] &= 0x7f;  // positive, as RFC 5280 requires
  raw[0] |= 0x01;  // and always 16 bytes long
  BIGNUM* bn = check(BN_bin2bn(raw, sizeof raw, nullptr), "BN_bin2bn");
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
  BN_free(bn);
  check(serial, "BN_to_ASN1_INTEGER");
  int rc = X509_set_serialNumber(cert, serial);
  ASN1_INTEGER_free(serial);
  check(rc, "X509_set_serialNumber");
}

}  // namespace

CryptoError::CryptoError(const std::string& what)
    : std::runtime_error([&] {
        std::string detail = openssl_errors();
        return detail.empty() ? what : what + ": " + detail;
      }()) {}

Pkey generate_key(KeyAlgorithm algorithm) {
  EVP_PKEY* key = nullptr;
  switch (algorithm) {
    case KeyAlgorithm::rsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
    case KeyAlgorithm::ecdsa_p256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyAlgorithm::ed25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  return Pkey(check(key, "key generation"));
}

bool is_rsa(const EVP_PKEY& key) { return EVP_PKEY_is_a(&key, "RSA") == 1; }

std::string private_key_pem(const EVP_PKEY& key) {
  auto bio = memory_bio();
  check(PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  return bio_string(bio.get());
}

std::string public_key_pem(const EVP_PKEY& key) {
  auto bio = memory_bio();
  check(PEM_write_bio_PUBKEY(bio.get(), &key), "PEM_write_bio_PUBKEY");
  return bio_string(bio.get());
}

// Never asks for a passphrase. With no callback OpenSSL's default one reads
// the terminal, or stdin, and blocks the caller until it gets a line: an
// encrypted key must be an error instead.
static int no_passphrase(char*, int, int, void*) { return 0; }

Pkey private_key_from_pem(std::string_view pem) {
  auto bio = read_bio(pem);
  return Pkey(check(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr), "PEM_read_bio_PrivateKey"));
}

std::string certificate_pem(const X509& cert) {
  auto bio = memory_bio();
  check(PEM_write_bio_X509(bio.get(), &cert), "PEM_write_bio_X509");
  return bio_string(bio.get());
}

Cert certificate_from_pem(std::string_view pem) {
  auto bio = read_bio(pem);
  return Cert(check(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr), "PEM_read_bio_X509"));
}

bool key_matches_certificate(const X509& cert, const EVP_PKEY& key) {
  bool ok = X509_check_private_key(&cert, &key) == 1;
  ERR_clear_error();
  return ok;
}

bool signed_by(const X509& cert, const X509& issuer) {
  // X509_check_issued compares names, key identifiers and the issuer's key
  // usage; X509_verify checks the signature itself.
  bool ok = X509_check_issued(const_cast<X509*>(&issuer), const_cast<X509*>(&cert)) == X509_V_OK;
  if (ok) {
    EVP_PKEY* pub = X509_get0_pubkey(&issuer);
    ok = pub != nullptr && X509_verify(const_cast<X509*>(&cert), pub) == 1;
  }
  ERR_clear_error();
  return ok;
}

Cert issue_certificate(const CertProfile& p, const EVP_PKEY& subject_key, const X509* issuer,
                       const EVP_PKEY& issuer_key, Clock::time_point now) {
  Cert cert(check(X509_new(), "X509_new"));
  X509* c = cert.get();
  check(X509_set_version(c, X509_VERSION_3), "X509_set_version");
  set_random_serial(c);

  X509_NAME* name = X509_get_subject_name(c);
  for (const auto& o : p.organizations) {
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.c_str()), -1,
                                     -1, 0),
          "subject O");
  }
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(p.common_name.c_str()), -1, -1, 0),
        "subject CN");
  check(X509_set_issuer_name(c, issuer != nullptr ? X509_get_subject_name(issuer) : name), "X509_set_issuer_name");

  std::time_t t_now = Clock::to_time_t(now);
  if (issuer != nullptr) {
    check(X509_set1_notBefore(c, X509_get0_notBefore(issuer)), "notBefore");
  } else {
    check(X509_time_adj_ex(X509_getm_notBefore(c), 0, -3600, &t_now) != nullptr, "notBefore");
  }
  const long validity_s = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(p.validity).count());
  check(X509_time_adj_ex(X509_getm_notAfter(c), static_cast<int>(validity_s / 86400), validity_s % 86400, &t_now) !=
            nullptr,
        "notAfter");
  check(X509_set_pubkey(c, const_cast<EVP_PKEY*>(&subject_key)), "X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? const_cast<X509*>(issuer) : c, c, nullptr, nullptr, 0);
  if (p.is_ca) {
    add_extension(c, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(c, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign");
  } else {
    add_extension(c, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    // keyEncipherment only means something for RSA key transport; Go (and
    // kubeadm) set it for RSA keys only.
    add_extension(c, &ctx, NID_key_usage,
                  is_rsa(subject_key) ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
    std::string eku;
    if (p.server_auth) eku = "serverAuth";
    if (p.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
    if (!eku.empty()) add_extension(c, &ctx, NID_ext_key_usage, eku.c_str());
  }
  add_extension(c, &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(c, &ctx, NID_authority_key_identifier, "keyid:always");
  add_subject_alt_names(c, p);

  // Ed25519 signs without a separate digest.
  const EVP_MD* md = EVP_PKEY_is_a(&issuer_key, "ED25519") == 1 ? nullptr : EVP_sha256();
  check(X509_sign(c, const_cast<EVP_PKEY*>(&issuer_key), md), "X509_sign");
  return cert;
}

std::vector<std::uint8_t> subject_public_key_info_der(const X509& cert) {
  EVP_PKEY* pub = check(X509_get0_pubkey(&cert), "X509_get0_pubkey");
  int n = i2d_PUBKEY(pub, nullptr);
  check(n, "i2d_PUBKEY");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  check(i2d_PUBKEY(pub, &p), "i2d_PUBKEY");
  return out;
}

std::vector<std::uint8_t> certificate_der(const X509& cert) {
  int n = i2d_X509(&cert, nullptr);
  check(n, "i2d_X509");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  check(i2d_X509(&cert, &p), "i2d_X509");
  return out;
}

Clock::time_point not_after(const X509& cert) {
  // timegm is not standard C++: measure the distance from the epoch instead.
  ASN1_TIME* epoch = ASN1_TIME_set(nullptr, 0);
  int days = 0, secs = 0;
  int rc = ASN1_TIME_diff(&days, &secs, epoch, X509_get0_notAfter(&cert));
  ASN1_TIME_free(epoch);
  check(rc, "ASN1_TIME_diff");
  // RFC 5280's "no well-defined expiration" is 9999-12-31, past what a
  // nanosecond system_clock holds (2262): clamp instead of overflowing.
  constexpr auto kMax = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count();
  long long s = static_cast<long long>(days) * 86400 + secs;
  if (s >= kMax) return Clock::time_point::max();
  if (s <= -kMax) return Clock::time_point::min();
  return Clock::time_point{} + std::chrono::seconds(s);
}

std::string subject_common_name(const X509& cert) {
  X509_NAME* name = X509_get_subject_name(&cert);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s))};
}

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)), "RAND_bytes");
  return out;
}

std::string random_string(std::string_view alphabet, std::size_t n) {
  // Reject bytes past the largest multiple of the alphabet size so every
  // character is equally likely.
  const unsigned limit = 256 - (256 % alphabet.size());
  std::string out;
  while (out.size() < n) {
    for (unsigned char b : random_bytes(n)) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace ramfleet::kube
