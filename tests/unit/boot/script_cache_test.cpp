// The /ipxe script cache: a script with boot-token slots is cached without
// any token, and every answer gets the token it is given.
#include "boot/script_cache.hpp"

#include <gtest/gtest.h>

namespace ramfleet::boot {
namespace {

CachedBoot boot_with_slots() {
  CachedBoot b;
  b.machine_id = "52:54:00:00:00:07";
  b.script = "kernel http://s/vmlinuz ign=http://s/ignition/mac=52:54:00:00:00:07/token=SLOT x=SLOT\nboot\n";
  b.cut_token_slots("SLOT");
  return b;
}

TEST(ScriptCache, TokenSlotsAreCutOutAndFilledPerAnswer) {
  auto b = boot_with_slots();
  EXPECT_TRUE(b.needs_token());
  EXPECT_EQ(b.script.find("SLOT"), std::string::npos);
  EXPECT_EQ(b.token_at.size(), 2u);
  EXPECT_EQ(b.script_with("aaaa"),
            "kernel http://s/vmlinuz ign=http://s/ignition/mac=52:54:00:00:00:07/token=aaaa x=aaaa\nboot\n");
  EXPECT_EQ(b.script_with("bbbb"),
            "kernel http://s/vmlinuz ign=http://s/ignition/mac=52:54:00:00:00:07/token=bbbb x=bbbb\nboot\n");
}

TEST(ScriptCache, TokenAndCredentialSlotsAreFilledEachWithItsOwn) {
  CachedBoot b;
  b.script = "kernel k cfg=http://s/apkovl/mac=m/token=TSLOT ramfleet.event_credential=CSLOT y=CSLOT z=TSLOT\n";
  b.cut_slots("TSLOT", "CSLOT");
  EXPECT_TRUE(b.needs_token());
  EXPECT_TRUE(b.needs_credential());
  EXPECT_EQ(b.token_at.size(), 2u);
  EXPECT_EQ(b.credential_at.size(), 2u);
  EXPECT_EQ(b.script_with("tok", "12.cred"),
            "kernel k cfg=http://s/apkovl/mac=m/token=tok ramfleet.event_credential=12.cred y=12.cred z=tok\n");
}

TEST(ScriptCache, CredentialSlotsAloneNeedNoToken) {
  CachedBoot b;
  b.script = "kernel k ramfleet.event_credential=CSLOT\n";
  b.cut_slots("TSLOT", "CSLOT");
  EXPECT_FALSE(b.needs_token());
  EXPECT_TRUE(b.needs_credential());
  EXPECT_EQ(b.script_with({}, "7.abc"), "kernel k ramfleet.event_credential=7.abc\n");
}

TEST(ScriptCache, AdjacentTokenThenCredentialKeepTheirOrder) {
  CachedBoot b;
  b.script = "x=TSLOTCSLOT.";
  b.cut_slots("TSLOT", "CSLOT");
  EXPECT_EQ(b.script_with("T", "C"), "x=TC.");
}

TEST(ScriptCache, ScriptsWithoutSlotsAreUnchanged) {
  CachedBoot b;
  b.script = "#!ipxe\nexit\n";
  b.cut_token_slots("SLOT");
  EXPECT_FALSE(b.needs_token());
  EXPECT_EQ(b.script, "#!ipxe\nexit\n");
}

TEST(ScriptCache, CachedEntryHoldsNoTokenAcrossHits) {
  ScriptCache cache;
  cache.put(1, "/ipxe?mac=52:54:00:00:00:07", "s", boot_with_slots());
  const CachedBoot* first = cache.find(1, "/ipxe?mac=52:54:00:00:00:07", "s");
  ASSERT_NE(first, nullptr);
  const auto one = first->script_with("token-of-boot-1");
  const CachedBoot* second = cache.find(1, "/ipxe?mac=52:54:00:00:00:07", "s");
  ASSERT_NE(second, nullptr);
  const auto two = second->script_with("token-of-boot-2");
  EXPECT_EQ(two.find("token-of-boot-1"), std::string::npos);
  EXPECT_NE(one, two);
  EXPECT_EQ(cache.find(2, "/ipxe?mac=52:54:00:00:00:07", "s"), nullptr);  // a new inventory drops it
}

}  // namespace
}  // namespace ramfleet::boot
