// Bootstrap token format, TTL/rotation, discovery hash and k3s token.
#include "kube/tokens.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>

#include "core/sha256.hpp"
#include "kube/crypto.hpp"

namespace ramfleet::kube {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

TEST(BootstrapToken, FormatMatchesKubeadm) {
  const std::regex format("^[a-z0-9]{6}\\.[a-z0-9]{16}$");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto t = generate_bootstrap_token(hours(24), Clock::now());
    EXPECT_TRUE(std::regex_match(t.str(), format)) << t.str();
    seen.insert(t.str());
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(BootstrapToken, Parse) {
  EXPECT_TRUE(parse_bootstrap_token("abcdef.0123456789abcdef"));
  EXPECT_FALSE(parse_bootstrap_token("ABCDEF.0123456789abcdef"));
  EXPECT_FALSE(parse_bootstrap_token("abcdef-0123456789abcdef"));
  EXPECT_FALSE(parse_bootstrap_token("abcde.0123456789abcdef0"));
  EXPECT_FALSE(parse_bootstrap_token("abcdef.0123456789abcde"));
}

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("ramfleet-tokens-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
};

TEST_F(TokenStoreTest, TtlAndPersistence) {
  const auto t0 = Clock::time_point{} + std::chrono::seconds(1'700'000'000);
  TokenStore store(dir);
  auto a = store.create(hours(1), t0, "first");
  auto b = store.create(hours(24), t0);
  EXPECT_EQ(fs::status(dir / "tokens.json").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  TokenStore again(dir);
  EXPECT_EQ(again.valid(t0).size(), 2u);
  EXPECT_EQ(again.valid(t0 + hours(2)).size(), 1u);
  EXPECT_EQ(again.valid(t0 + hours(2))[0].str(), b.str());
  EXPECT_EQ(again.all()[0].description, "first");
  // Creating prunes the expired one.
  again.create(hours(24), t0 + hours(2));
  EXPECT_EQ(again.all().size(), 2u);
}

TEST_F(TokenStoreTest, RotationKeepsTokenUntilHalfLife) {
  const auto t0 = Clock::time_point{} + std::chrono::seconds(1'700'000'000);
  TokenStore store(dir);
  auto first = store.current(hours(24), t0);
  EXPECT_EQ(store.current(hours(24), t0 + hours(11)).str(), first.str());
  auto second = store.current(hours(24), t0 + hours(13));
  EXPECT_NE(second.str(), first.str());
  // The old one stays valid until it expires: nodes mid-join keep working.
  EXPECT_EQ(store.valid(t0 + hours(13)).size(), 2u);
}

TEST(DiscoveryHash, IsSha256OfSubjectPublicKeyInfo) {
  auto key = generate_key(KeyAlgorithm::ecdsa_p256);
  CertProfile p;
  p.common_name = "kubernetes";
  p.is_ca = true;
  auto ca = issue_certificate(p, *key, nullptr, *key, Clock::now());
  const std::string hash = discovery_hash(*ca);
  EXPECT_TRUE(std::regex_match(hash, std::regex("^sha256:[0-9a-f]{64}$"))) << hash;
  // The SPKI, not the certificate: re-issuing the CA with the same key keeps the hash.
  auto again = issue_certificate(p, *key, nullptr, *key, Clock::now() + hours(1));
  EXPECT_EQ(discovery_hash(*again), hash);
  EXPECT_NE(sha256_hex(as_chars(certificate_der(*ca))), hash.substr(7));
  EXPECT_EQ(hash, "sha256:" + sha256_hex(as_chars(subject_public_key_info_der(*ca))));
}

TEST(K3sToken, Format) {
  // sha256("abc") is a published test vector (FIPS 180-2).
  EXPECT_EQ(k3s_secure_token("abc", "s3cret"),
            "K10ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad::server:s3cret");
}

}  // namespace
}  // namespace ramfleet::kube
