#include "auth/operator_ca.hpp"

#include <arpa/inet.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "auth/credential_book.hpp"
#include "auth/credential_file.hpp"
#include "core/log.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::auth {
namespace fs = std::filesystem;

namespace {
constexpr auto kCaValidity = std::chrono::hours(24 * 365 * 10);
constexpr auto kLeafValidity = std::chrono::hours(24 * 365);
constexpr auto kRenewBefore = std::chrono::hours(24 * 30);

struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
}  // namespace

fs::path ca_cert_path(const fs::path& state_dir) { return api_dir(state_dir) / "ca.crt"; }

kube::KeyedCert ensure_operator_ca(const fs::path& state_dir) {
  const fs::path dir = api_dir(state_dir);
  kube::make_private_dirs(dir);
  const bool crt = fs::exists(dir / "ca.crt");
  const bool key = fs::exists(dir / "ca.key");
  if (crt && key) return kube::load_keyed_cert(dir, "ca");
  if (crt || key) {
    throw kube::StateError("refusing to replace one half of the operator CA in " + dir.string() +
                           ": restore the missing file, or remove both (every client certificate then stops working)");
  }
  kube::CertProfile p;
  p.common_name = "ramfleet operator CA";
  p.is_ca = true;
  p.validity = kCaValidity;
  kube::KeyedCert ca;
  ca.key = kube::generate_key(kube::KeyAlgorithm::ecdsa_p256);
  ca.cert = kube::issue_certificate(p, *ca.key, nullptr, *ca.key, kube::Clock::now());
  kube::write_file_atomic(dir / "ca.key", kube::private_key_pem(*ca.key));
  // The CA certificate is public: clients (curl --cacert) read it.
  kube::write_file_atomic(
      dir / "ca.crt", kube::certificate_pem(*ca.cert),
      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  log::info("api.ca_created", {{"dir", dir.string()}});
  return ca;
}

IssuedPem issue_client_cert(const kube::KeyedCert& ca, const std::string& name, http::Scope scope,
                            kube::Clock::time_point now) {
  kube::CertProfile p;
  p.common_name = name;
  p.organizations = {std::string(kScopeOrgPrefix) + std::string(http::to_string(scope))};
  p.client_auth = true;
  p.validity = kLeafValidity;
  auto key = kube::generate_key(kube::KeyAlgorithm::ecdsa_p256);
  auto cert = kube::issue_certificate(p, *key, ca.cert.get(), *ca.key, now);
  IssuedPem out;
  out.cert = kube::certificate_pem(*cert);
  out.key = kube::private_key_pem(*key);
  out.der_digest = sha256(kube::as_chars(kube::certificate_der(*cert)));
  return out;
}

std::vector<std::string> ip_sans(const X509& cert) {
  std::vector<std::string> out;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(&cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_IPADD) continue;
    const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
    char buf[INET6_ADDRSTRLEN] = {};
    const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
    if (::inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) != nullptr) out.emplace_back(buf);
  }
  return out;
}

std::pair<fs::path, fs::path> ensure_server_cert(const fs::path& state_dir, const std::string& listen_ip,
                                                 kube::Clock::time_point now) {
  const auto ca = ensure_operator_ca(state_dir);
  const fs::path dir = api_dir(state_dir);
  std::vector<std::string> ips{"127.0.0.1"};
  if (listen_ip != "0.0.0.0" && listen_ip != "127.0.0.1") ips.insert(ips.begin(), listen_ip);
  const fs::path crt = dir / "server.crt";
  const fs::path key = dir / "server.key";
  if (fs::exists(crt) && fs::exists(key)) {
    try {
      auto cert = kube::certificate_from_pem(kube::read_file_or_throw(crt));
      auto k = kube::private_key_from_pem(kube::read_file_or_throw(key));
      auto have = ip_sans(*cert);
      std::ranges::sort(have);
      auto want = ips;
      std::ranges::sort(want);
      if (have == want && kube::signed_by(*cert, *ca.cert) && kube::key_matches_certificate(*cert, *k) &&
          kube::not_after(*cert) > now + kRenewBefore) {
        return {crt, key};
      }
    } catch (const std::exception& e) {
      log::warn("api.server_cert_unreadable", {{"error", e.what()}});
    }
  }
  kube::CertProfile p;
  p.common_name = "ramfleet operator API";
  p.server_auth = true;
  p.dns_names = {"localhost"};
  p.ip_addresses = ips;
  p.validity = kLeafValidity;
  auto k = kube::generate_key(kube::KeyAlgorithm::ecdsa_p256);
  auto cert = kube::issue_certificate(p, *k, ca.cert.get(), *ca.key, now);
  kube::write_file_atomic(key, kube::private_key_pem(*k));
  kube::write_file_atomic(crt, kube::certificate_pem(*cert));
  std::string joined;
  for (const auto& ip : ips) joined += (joined.empty() ? "" : ",") + ip;
  log::info("api.server_cert_issued", {{"ips", joined}});
  return {crt, key};
}

std::optional<http::Operator> operator_of_cert(const X509& cert) {
  const std::string name = kube::subject_common_name(cert);
  if (!valid_name(name)) return std::nullopt;
  X509_NAME* subject = X509_get_subject_name(&cert);
  std::optional<http::Scope> scope;
  for (int idx = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1); idx >= 0;
       idx = X509_NAME_get_index_by_NID(subject, NID_organizationName, idx)) {
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    const std::string_view o(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                             static_cast<std::size_t>(ASN1_STRING_length(s)));
    if (!o.starts_with(kScopeOrgPrefix)) continue;
    auto sc = parse_scope(o.substr(kScopeOrgPrefix.size()));
    // Two scopes in one certificate: the narrower one.
    if (sc && (!scope || *sc == http::Scope::read)) scope = sc;
  }
  if (!scope) return std::nullopt;
  return http::Operator{name, *scope};
}

}  // namespace ramfleet::auth
