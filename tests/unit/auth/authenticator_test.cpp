// STATE/api on a real temporary directory: the locked, atomic file, a running
// server's view of it, the operator CA and the authenticator over both.
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "auth/bearer.hpp"
#include "auth/operator_ca.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::auth {
namespace {
namespace fs = std::filesystem;

struct StateDir : ::testing::Test {
  fs::path dir;
  StateDir() {
    dir = fs::temp_directory_path() / ("ramfleet-auth-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~StateDir() override { fs::remove_all(dir); }

  std::string create(const std::string& name, http::Scope scope) {
    std::string secret = mint_token();
    auto err = update_book(dir, [&](CredentialBook& b) {
      return b.add(Credential{CredentialKind::token, name, scope, token_digest(secret), 1});
    });
    EXPECT_FALSE(err) << *err;
    return secret;
  }
  void revoke(const std::string& name) {
    EXPECT_FALSE(update_book(dir, [&](CredentialBook& b) -> std::optional<std::string> {
      b.revoke(name, 2);
      return std::nullopt;
    }));
  }
};

TEST_F(StateDir, TheFileIsPrivateAndHoldsNoSecret) {
  const auto secret = create("ops", http::Scope::admin);
  struct stat s {};
  ASSERT_EQ(::stat(tokens_path(dir).c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0600u);
  const auto text = kube::read_file(tokens_path(dir));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(secret), std::string::npos);
  EXPECT_NE(text->find("token ops admin"), std::string::npos);
}

TEST_F(StateDir, ARunningServerSeesARevocationOnTheNextRequest) {
  Authenticator auth(tokens_path(dir));
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::nullopt, nullptr)), Refusal::no_credential);
  const auto secret = create("ops", http::Scope::admin);
  const auto header = std::optional<std::string>("Bearer " + secret);
  auto ok = auth.authenticate(header, nullptr);
  ASSERT_TRUE(std::holds_alternative<http::Operator>(ok));
  EXPECT_EQ(std::get<http::Operator>(ok).name, "ops");
  EXPECT_EQ(std::get<http::Operator>(ok).scope, http::Scope::admin);
  revoke("ops");
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(header, nullptr)), Refusal::unknown_token);
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::string("Bearer rfop_nope"), nullptr)), Refusal::unknown_token);
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::string("Basic x"), nullptr)), Refusal::bad_header);
}

TEST_F(StateDir, AMalformedFileRefusesEveryoneUntilFixed) {
  const auto secret = create("ops", http::Scope::read);
  WatchedBook book(tokens_path(dir));
  EXPECT_TRUE(book.current().find_token(token_digest(secret)));
  const auto good = *kube::read_file(tokens_path(dir));
  kube::write_file_atomic(tokens_path(dir), good + "garbage here\n");
  EXPECT_FALSE(book.current().find_token(token_digest(secret)));
  kube::write_file_atomic(tokens_path(dir), good);
  EXPECT_TRUE(book.current().find_token(token_digest(secret)));
}

TEST_F(StateDir, OneStatAndNoReReadWhileNothingChanges) {
  create("ops", http::Scope::read);
  WatchedBook book(tokens_path(dir));
  book.current();
  book.current();
  book.current();
  EXPECT_EQ(book.reloads(), 1u);
  create("ops2", http::Scope::read);
  book.current();
  EXPECT_EQ(book.reloads(), 2u);
}

TEST_F(StateDir, ClientCertificatesCarryNameAndScope) {
  const auto ca = ensure_operator_ca(dir);
  const auto issued = issue_client_cert(ca, "laptop", http::Scope::admin, kube::Clock::now());
  auto cert = kube::certificate_from_pem(issued.cert);
  EXPECT_TRUE(kube::signed_by(*cert, *ca.cert));
  auto who = operator_of_cert(*cert);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "laptop");
  EXPECT_EQ(who->scope, http::Scope::admin);

  Authenticator auth(tokens_path(dir));
  EXPECT_TRUE(std::holds_alternative<http::Operator>(auth.authenticate(std::nullopt, cert.get())));
  // A bad header is not rescued by a good certificate.
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::string("Bearer x"), cert.get())), Refusal::unknown_token);
  revoke("laptop");
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::nullopt, cert.get())), Refusal::revoked_cert);
}

TEST_F(StateDir, ACertificateWithoutScopeIsRefused) {
  const auto ca = ensure_operator_ca(dir);
  kube::CertProfile p;
  p.common_name = "someone";
  p.organizations = {"system:masters"};
  p.client_auth = true;
  auto key = kube::generate_key(kube::KeyAlgorithm::ecdsa_p256);
  auto cert = kube::issue_certificate(p, *key, ca.cert.get(), *ca.key, kube::Clock::now());
  EXPECT_FALSE(operator_of_cert(*cert));
  Authenticator auth(tokens_path(dir));
  EXPECT_EQ(std::get<Refusal>(auth.authenticate(std::nullopt, cert.get())), Refusal::cert_without_scope);
}

TEST_F(StateDir, TheCaIsMadeOnceAndKept) {
  const auto a = ensure_operator_ca(dir);
  const auto b = ensure_operator_ca(dir);
  EXPECT_EQ(kube::certificate_pem(*a.cert), kube::certificate_pem(*b.cert));
  fs::remove(api_dir(dir) / "ca.key");
  EXPECT_THROW(ensure_operator_ca(dir), kube::StateError) << "half a CA is never silently replaced";
}

TEST_F(StateDir, TheServerCertificateFollowsTheListenAddress) {
  const auto now = kube::Clock::now();
  auto [crt, key] = ensure_server_cert(dir, "10.0.0.1", now);
  const auto first = *kube::read_file(crt);
  auto cert = kube::certificate_from_pem(first);
  auto ips = ip_sans(*cert);
  std::ranges::sort(ips);
  EXPECT_EQ(ips, (std::vector<std::string>{"10.0.0.1", "127.0.0.1"}));
  ensure_server_cert(dir, "10.0.0.1", now);
  EXPECT_EQ(*kube::read_file(crt), first) << "kept while it fits";
  ensure_server_cert(dir, "10.0.0.2", now);
  auto moved = kube::certificate_from_pem(*kube::read_file(crt));
  ips = ip_sans(*moved);
  std::ranges::sort(ips);
  EXPECT_EQ(ips, (std::vector<std::string>{"10.0.0.2", "127.0.0.1"}));
  ensure_server_cert(dir, "0.0.0.0", now);
  EXPECT_EQ(ip_sans(*kube::certificate_from_pem(*kube::read_file(crt))), (std::vector<std::string>{"127.0.0.1"}));
}

}  // namespace
}  // namespace ramfleet::auth
