// /ipxe and event credentials: a script that renders {{event_credential}}
// gets a fresh one per boot (cached or not), minted only for a requester that
// may stand for the machine (full DHCP: it holds the machine's lease).
#include "boot/machine_boot.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <regex>

namespace ramfleet::boot {
namespace {
namespace inv = ramfleet::inventory;

constexpr const char* kMac = "52:54:00:00:00:07";

class Leases final : public AddressOwners {
 public:
  std::map<std::string, MacAddress> leases;
  [[nodiscard]] bool leases_known() const override { return true; }
  [[nodiscard]] std::optional<MacAddress> holder_of(Ipv4 a) const override {
    auto it = leases.find(a.str());
    if (it == leases.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] std::optional<Reservation> reservation_of(const MacAddress&) const override { return std::nullopt; }
};

struct MachineBoot : ::testing::Test {
  BootState st;
  BootSettings settings;
  std::int64_t wall = 1'733'130'000'000;

  MachineBoot() {
    auto in = std::make_shared<inv::Inventory>();
    inv::Profile p;
    p.id = "node";
    p.kernel = "vmlinuz";
    p.args = {"ramfleet.id={{machine_id}}", "ramfleet.event_credential={{event_credential}}"};
    in->profiles.emplace("node", p);
    inv::Group g;
    g.id = "nodes";
    g.profile = "node";
    g.selector = inv::Selector({inv::Constraint{inv::Constraint::Kind::fact, inv::FactKey::mac, {}, kMac}});
    in->groups.push_back(g);
    st.inventory = std::move(in);
    st.inventory_generation = 1;
  }

  ScriptOutcome ask(const std::string& from) {
    const Now now{std::chrono::steady_clock::now(), wall += 1000};
    const Peer peer{from, from + ":4711"};
    const std::string target = std::string("/ipxe?mac=") + kMac;
    if (auto cached = cached_machine_script(st, settings, target, "s", peer, now)) return std::move(*cached);
    return machine_script(st, settings, {target, "s", {{"mac", kMac}}, "http://s", peer}, now);
  }

  static std::string credential_of(const std::string& script) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(script, m, std::regex("ramfleet\\.event_credential=(\\S+)"))) << script;
    return m.size() > 1 ? m[1].str() : std::string();
  }
};

TEST_F(MachineBoot, EachBootGetsItsOwnCredentialCachedOrNot) {
  const auto first = ask("10.0.0.7");
  ASSERT_FALSE(first.refusal) << first.refusal->message;
  const auto one = credential_of(first.script);
  EXPECT_EQ(st.event_credentials.check(kMac, one), std::nullopt);
  const auto second = ask("10.0.0.7");  // from the script cache now
  ASSERT_FALSE(second.refusal);
  const auto two = credential_of(second.script);
  EXPECT_NE(one, two);
  EXPECT_EQ(st.event_credentials.check(kMac, one), EventRefusal::earlier_boot);
  EXPECT_EQ(st.event_credentials.check(kMac, two), std::nullopt);
  EXPECT_EQ(st.counters.get("http.event_credential.issued"), 2u);
  EXPECT_EQ(st.script_cache.size(), 1u);
}

TEST_F(MachineBoot, FullDhcpMintsOnlyForTheLeaseHolder) {
  Leases leases;
  leases.leases["10.0.0.7"] = *MacAddress::parse(kMac);
  leases.leases["10.0.0.8"] = *MacAddress::parse("52:54:00:00:00:08");
  st.address_owners = &leases;
  const auto real = ask("10.0.0.7");
  ASSERT_FALSE(real.refusal);
  const auto credential = credential_of(real.script);
  for (const char* from : {"10.0.0.8", "10.0.0.9", "::1"}) {
    SCOPED_TRACE(from);
    const auto other = ask(from);
    ASSERT_TRUE(other.refusal);
    EXPECT_EQ(other.refusal->kind, RefusalKind::wrong_address);
    EXPECT_EQ(other.script.find("event_credential"), std::string::npos);
  }
  // The refused requests started no boot: the real node's credential still holds.
  EXPECT_EQ(st.event_credentials.check(kMac, credential), std::nullopt);
  EXPECT_EQ(st.counters.get("http.event_credential.issued"), 1u);
}

TEST_F(MachineBoot, AProfileWithoutTheVariableMintsNothing) {
  auto in = std::make_shared<inv::Inventory>(*st.inventory);
  in->profiles.at("node").args = {"ramfleet.id={{machine_id}}"};
  st.inventory = std::move(in);
  st.inventory_generation = 2;
  const auto r = ask("10.0.0.7");
  ASSERT_FALSE(r.refusal);
  EXPECT_EQ(r.script.find("event_credential"), std::string::npos);
  EXPECT_EQ(r.script.find("rfcred"), std::string::npos);
  EXPECT_FALSE(st.event_credentials.remembers(kMac));
}

}  // namespace
}  // namespace ramfleet::boot
