#include "inventory/selector.hpp"

#include <gtest/gtest.h>

#include "inventory/glob.hpp"
#include "inventory/matcher.hpp"

using namespace ramfleet::inventory;

namespace {
MachineFacts facts(std::vector<std::pair<std::string, std::string>> params) {
  auto r = facts_from_params(params);
  EXPECT_TRUE(r.errors.empty());
  return r.facts;
}
Constraint fact(FactKey k, const std::string& v) {
  auto p = normalise_pattern(k, v);
  EXPECT_EQ(p.error, "");
  return {Constraint::Kind::fact, k, {}, p.pattern};
}
Constraint label(const std::string& k, const std::string& v) { return {Constraint::Kind::label, FactKey::mac, k, v}; }
}  // namespace

TEST(Glob, MatchesWildcards) {
  EXPECT_TRUE(glob_match("52:54:00:*", "52:54:00:12:34:56"));
  EXPECT_FALSE(glob_match("52:54:00:*", "52:54:01:12:34:56"));
  EXPECT_TRUE(glob_match("node-?", "node-7"));
  EXPECT_FALSE(glob_match("node-?", "node-17"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
}

TEST(Glob, IntersectionFindsCommonStrings) {
  EXPECT_TRUE(glob_intersects("52:54:00:*", "52:54:00:12:*"));
  EXPECT_TRUE(glob_intersects("52:54:00:*", "*:56"));
  EXPECT_FALSE(glob_intersects("52:54:00:*", "52:54:01:*"));
  EXPECT_FALSE(glob_intersects("node-1", "node-2"));
  EXPECT_TRUE(glob_intersects("node-?", "node-7"));
  EXPECT_FALSE(glob_intersects("a*", "b*"));
  EXPECT_TRUE(glob_intersects("*a", "b*"));  // "ba"
}

TEST(Selector, MacPatternsAreNormalised) {
  auto p = normalise_pattern(FactKey::mac, "52-54-00-AB-CD-EF");
  EXPECT_EQ(p.pattern, "52:54:00:ab:cd:ef");
  EXPECT_NE(normalise_pattern(FactKey::mac, "52:54:zz:*").error, "");
  EXPECT_NE(normalise_pattern(FactKey::mac, "52:54:00").error, "");
  EXPECT_NE(normalise_pattern(FactKey::uuid, "not-a-uuid").error, "");
}

TEST(Selector, ExactIdentityBeatsPatternBeatsClass) {
  Selector exact({fact(FactKey::mac, "52:54:00:00:00:01")});
  Selector prefix({fact(FactKey::mac, "52:54:00:*")});
  Selector longer_prefix({fact(FactKey::mac, "52:54:00:00:*")});
  Selector arch({fact(FactKey::arch, "x86_64")});
  Selector prefix_and_arch({fact(FactKey::mac, "52:54:00:*"), fact(FactKey::arch, "x86_64")});
  EXPECT_GT(exact.specificity(), prefix_and_arch.specificity());
  EXPECT_GT(prefix_and_arch.specificity(), prefix.specificity());
  EXPECT_GT(longer_prefix.specificity(), prefix.specificity());
  EXPECT_GT(prefix.specificity(), arch.specificity());
  EXPECT_GT(arch.specificity(), Selector{}.specificity());
}

TEST(Selector, MatchesEveryKindOfFact) {
  auto f = facts({{"mac", "52:54:00:AA:BB:CC"},
                  {"uuid", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"},
                  {"hostname", "Node-7"},
                  {"serial", "SN 123"},
                  {"arch", "x86_64"},
                  {"platform", "efi"},
                  {"rack", "r1"}});
  EXPECT_TRUE(Selector({fact(FactKey::mac, "52:54:00:aa:bb:cc")}).matches(f));
  EXPECT_TRUE(Selector({fact(FactKey::uuid, "0f1e2d3c4b5a69788796a5b4c3d2e1f0")}).matches(f));
  EXPECT_TRUE(Selector({fact(FactKey::hostname, "node-?")}).matches(f));
  EXPECT_TRUE(Selector({fact(FactKey::serial, "SN 123")}).matches(f));
  EXPECT_TRUE(Selector({fact(FactKey::platform, "efi"), fact(FactKey::arch, "x86_64")}).matches(f));
  EXPECT_TRUE(Selector({label("rack", "r1")}).matches(f));
  EXPECT_FALSE(Selector({label("rack", "r2")}).matches(f));
  EXPECT_FALSE(Selector({label("row", "*")}).matches(f));  // absent label never matches
  EXPECT_FALSE(Selector({fact(FactKey::product, "*")}).matches(f));
}

TEST(Selector, OverlapIsPerKey) {
  Selector a({fact(FactKey::mac, "52:54:00:*")});
  Selector b({fact(FactKey::arch, "arm64")});
  Selector c({fact(FactKey::mac, "aa:*")});
  EXPECT_TRUE(a.may_overlap(b));  // one machine can have both
  EXPECT_FALSE(a.may_overlap(c));
}

TEST(Facts, RejectsInjectionAndMalformedValues) {
  auto r = facts_from_params({{"mac", "52:54:00:00:00:0g"},
                              {"hostname", "a\nchain http://evil"},
                              {"serial", "${root}"},
                              {"bad key!", "x"},
                              {"product", std::string(200, 'x')}});
  EXPECT_EQ(r.errors.size(), 5U);
  auto ok = facts_from_params({{"mac", "525400000001"}, {"uuid", ""}, {"manufacturer", "QEMU Corp"}});
  EXPECT_TRUE(ok.errors.empty());
  EXPECT_EQ(*ok.facts.machine_id(), "52:54:00:00:00:01");
  EXPECT_EQ(ok.facts.get(FactKey::uuid), nullptr);  // iPXE sends unset settings as ""
}

TEST(Matcher, MostSpecificWinsAndDefaultApplies) {
  Inventory inv;
  inv.profiles["p"] = Profile{"p", "vmlinuz", {}, {}, std::nullopt, {}};
  inv.profiles["d"] = Profile{"d", "vmlinuz", {}, {}, std::nullopt, {}};
  inv.groups.push_back(Group{"one", "p", Selector({fact(FactKey::mac, "52:54:00:00:00:01")}), {}, {}, {}});
  inv.groups.push_back(Group{"rack", "p", Selector({fact(FactKey::mac, "52:54:00:*")}), {}, {}, {}});
  auto d1 = decide(inv, facts({{"mac", "52:54:00:00:00:01"}}));
  ASSERT_TRUE(d1.matched());
  EXPECT_EQ(d1.group->id, "one");
  EXPECT_EQ(d1.also_matched, std::vector<std::string>{"rack"});
  auto d2 = decide(inv, facts({{"mac", "11:54:00:00:00:01"}}));
  EXPECT_EQ(d2.kind, BootDecision::Kind::exit);
  inv.unmatched = {DefaultAction::Kind::profile, "d", {}};
  auto d3 = decide(inv, facts({{"mac", "11:54:00:00:00:01"}}));
  EXPECT_EQ(d3.kind, BootDecision::Kind::default_profile);
  EXPECT_EQ(d3.profile->id, "d");
}
