// Event credentials: one per boot, bound to its machine, an earlier boot's
// refused, nothing per credential stored, a bounded table that falls back on
// the machine store's last boot.
#include "boot/event_credentials.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "boot/event_secret.hpp"

namespace ramfleet::boot {
namespace {

const std::string kSecret(32, 's');
constexpr std::int64_t t0 = 1'733'130'000'000;

TEST(EventCredentials, GoodForItsMachineOnly) {
  EventCredentials creds(kSecret);
  const auto mine = creds.issue("52:54:00:00:00:01", t0);
  const auto theirs = creds.issue("52:54:00:00:00:02", t0);
  EXPECT_EQ(creds.check("52:54:00:00:00:01", mine), std::nullopt);
  EXPECT_EQ(creds.check("52:54:00:00:00:02", theirs), std::nullopt);
  EXPECT_EQ(creds.check("52:54:00:00:00:01", theirs), EventRefusal::other_machine);
  EXPECT_EQ(creds.check("52:54:00:00:00:02", mine), EventRefusal::other_machine);
  // Checking uses nothing up: a node reports several phases with one credential.
  EXPECT_EQ(creds.check("52:54:00:00:00:01", mine), std::nullopt);
}

TEST(EventCredentials, ANewBootRefusesTheEarlierOnes) {
  EventCredentials creds(kSecret);
  const auto first = creds.issue("m1", t0);
  const auto second = creds.issue("m1", t0 + 60'000);
  EXPECT_NE(first, second);
  EXPECT_EQ(creds.check("m1", first), EventRefusal::earlier_boot);
  EXPECT_EQ(creds.check("m1", second), std::nullopt);
}

TEST(EventCredentials, TwoBootsInOneMillisecondOrABackwardClockStillDiffer) {
  EventCredentials creds(kSecret);
  const auto a = creds.issue("m1", t0);
  const auto b = creds.issue("m1", t0);
  const auto c = creds.issue("m1", t0 - 5'000);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(creds.check("m1", a), EventRefusal::earlier_boot);
  EXPECT_EQ(creds.check("m1", b), EventRefusal::earlier_boot);
  EXPECT_EQ(creds.check("m1", c), std::nullopt);
}

TEST(EventCredentials, MissingAndMalformedAreUnauthenticated) {
  EventCredentials creds(kSecret);
  const auto good = creds.issue("m1", t0);
  EXPECT_EQ(creds.check("m1", ""), EventRefusal::missing);
  for (std::string bad : {std::string("x"), std::string("123"), std::string(".") + good.substr(good.find('.') + 1),
                          good + "0", good.substr(0, good.size() - 1), std::string("-1.") + std::string(32, '0'),
                          std::string("12.") + std::string(32, 'G'), std::string(200, '1'),
                          "1" + good /* a marker off by digits keeps a valid-looking form */}) {
    SCOPED_TRACE(bad);
    auto why = creds.check("m1", bad);
    ASSERT_TRUE(why.has_value());
    if (bad == "1" + good) {
      EXPECT_EQ(*why, EventRefusal::other_machine);  // well-formed, wrong MAC
    } else {
      EXPECT_TRUE(unauthenticated(*why)) << to_string(*why);
    }
  }
}

TEST(EventCredentials, AForgedMacOrBoostedMarkerIsRefused) {
  EventCredentials creds(kSecret);
  const auto good = creds.issue("m1", t0);
  const auto dot = good.find('.');
  std::string flipped = good;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(creds.check("m1", flipped), EventRefusal::other_machine);
  // A later boot marker with the old MAC: the MAC covers the marker.
  const std::string later = std::to_string(t0 + 1'000'000) + good.substr(dot);
  EXPECT_EQ(creds.check("m1", later), EventRefusal::other_machine);
}

TEST(EventCredentials, OneSpellingPerCredential) {
  EventCredentials creds(kSecret);
  const auto good = creds.issue("m1", t0);
  EXPECT_EQ(creds.check("m1", "0" + good), EventRefusal::malformed);
  EXPECT_EQ(creds.check("m1", "+" + good), EventRefusal::malformed);
  EXPECT_EQ(creds.check("m1", std::string(good).replace(good.size() - 1, 1, "A")), EventRefusal::malformed);
}

TEST(EventCredentials, AnotherSecretIssuesOtherCredentials) {
  EventCredentials one(kSecret);
  EventCredentials two(std::string(32, 't'));
  const auto c = one.issue("m1", t0);
  two.issue("m1", t0);
  EXPECT_EQ(two.check("m1", c), EventRefusal::other_machine);
}

TEST(EventCredentials, ForgottenMachineIsJudgedAgainstTheStoreFloor) {
  // A serve restart: same secret, empty table; the store knows the last boot.
  EventCredentials before(kSecret);
  const auto old_boot = before.issue("m1", t0);
  const auto last_boot = before.issue("m1", t0 + 60'000);
  EventCredentials after(kSecret);
  EXPECT_FALSE(after.remembers("m1"));
  EXPECT_EQ(after.check("m1", old_boot, t0 + 60'000), EventRefusal::earlier_boot);
  EXPECT_EQ(after.check("m1", last_boot, t0 + 60'000), std::nullopt);
  EXPECT_TRUE(after.remembers("m1"));
  EXPECT_EQ(after.check("m1", old_boot), EventRefusal::earlier_boot);  // remembered now, no floor needed
}

TEST(EventCredentials, TheTableIsBoundedOldestBootForgottenFirst) {
  EventCredentials creds(kSecret, 100);
  const auto first = creds.issue("victim", t0);
  for (int i = 0; i < 1000; ++i) creds.issue("m" + std::to_string(i), t0 + i);
  EXPECT_EQ(creds.size(), 100u);
  EXPECT_FALSE(creds.remembers("victim"));
  // Forgotten, not lost: without a floor it is accepted again, with the store's floor judged.
  EXPECT_EQ(creds.check("victim", first, t0), std::nullopt);
  // One machine booting again and again keeps one entry.
  EventCredentials loop(kSecret, 10);
  for (int i = 0; i < 10000; ++i) loop.issue("looping", t0 + i);
  EXPECT_EQ(loop.size(), 1u);
}

TEST(EventCredentials, RefusesAShortSecret) {
  EXPECT_THROW(EventCredentials(std::string(31, 's')), std::invalid_argument);
  EXPECT_EQ(random_event_secret().size(), EventCredentials::kSecretBytes);
  EXPECT_NE(random_event_secret(), random_event_secret());
}

TEST(EventCredentials, CredentialsFitAKernelCommandLineAndAnIpxeScript) {
  EventCredentials creds(random_event_secret());
  const auto c = creds.issue("uuid-0f8fad5b-d9cb-469f-a165-70867728950e", t0);
  EXPECT_LE(c.size(), EventCredentials::kMaxLength);
  EXPECT_EQ(c.find_first_not_of("0123456789abcdef."), std::string::npos) << c;
}

TEST(BearerCredential, ReadsTheBearerScheme) {
  EXPECT_EQ(bearer_credential("Bearer 12.ab"), "12.ab");
  EXPECT_EQ(bearer_credential("bearer   12.ab  "), "12.ab");
  EXPECT_EQ(bearer_credential("BEARER 12.ab"), "12.ab");
  EXPECT_EQ(bearer_credential("Basic dXNlcjpwdw=="), "");
  EXPECT_EQ(bearer_credential("Bearer"), "");
  EXPECT_EQ(bearer_credential("Bearer "), "");
  EXPECT_EQ(bearer_credential(""), "");
}

struct EventSecretFile : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("ramfleet-event-secret-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(EventSecretFile, CreatedOnce0600ThenKept) {
  const auto first = load_or_create_event_secret(dir);
  EXPECT_EQ(first.size(), EventCredentials::kSecretBytes);
  const auto file = dir / kEventSecretFile;
  const auto perms = std::filesystem::status(file).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(load_or_create_event_secret(dir), first);  // a restart keeps it: nodes booted before still report
  // Nothing temporary is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);
}

TEST_F(EventSecretFile, ADamagedSecretIsAnErrorNamingTheFile) {
  std::ofstream(dir / kEventSecretFile) << "not hex\n";
  try {
    load_or_create_event_secret(dir);
    FAIL() << "a damaged secret was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(kEventSecretFile), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ramfleet::boot
