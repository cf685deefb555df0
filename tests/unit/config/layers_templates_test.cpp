// Layer merge (override, append, removal, conflicts) and templates.
#include "config/encoding.hpp"
#include "test_support.hpp"

namespace ramfleet::config::test {
namespace {

const std::string kCluster = R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      mode: 0644
      contents:
        inline: cluster motd
    - path: /etc/cluster-only
      contents:
        inline: c
  directories:
    - path: /var/lib/app
systemd:
  units:
    - name: app.service
      enabled: true
      contents: "[Service]\nExecStart=/bin/app\n"
      dropins:
        - name: 10-a.conf
          contents: a
        - name: 20-b.conf
          contents: b
passwd:
  users:
    - name: core
      ssh_authorized_keys: [key-cluster]
      groups: [wheel]
      shell: /bin/bash
kernel_arguments:
  should_exist: [quiet]
)";

TEST(ConfigLayers, LaterLayerOverridesOnlyWhatItSets) {
  auto r = compile({{"cluster.bu", kCluster}, {"machine.bu", R"(storage:
  files:
    - path: /etc/motd
      contents:
        inline: machine motd
systemd:
  units:
    - name: app.service
      enabled: false
passwd:
  users:
    - name: core
      shell: /bin/sh
)"}});
  auto j = ignition_json(r);
  const auto& motd = j["storage"]["files"][0];
  EXPECT_EQ(decode_data_url(motd["contents"]["source"].get<std::string>()), "machine motd");
  EXPECT_EQ(motd["mode"], 0644);  // kept from the cluster layer
  const auto& unit = j["systemd"]["units"][0];
  EXPECT_EQ(unit["enabled"], false);
  EXPECT_EQ(unit["contents"], "[Service]\nExecStart=/bin/app\n");
  EXPECT_EQ(j["passwd"]["users"][0]["shell"], "/bin/sh");
  EXPECT_EQ(j["ignition"]["version"], "3.3.0");  // variant/version inherited
}

TEST(ConfigLayers, ListsOfValuesAndAppendFragmentsAreAppended) {
  auto r = compile({{"cluster.bu", kCluster}, {"group.bu", R"(passwd:
  users:
    - name: core
      ssh_authorized_keys: [key-group, key-cluster]
      groups: [docker]
storage:
  files:
    - path: /etc/motd
      append:
        - inline: " + group"
kernel_arguments:
  should_exist: [console=ttyS0]
)"}});
  auto j = ignition_json(r);
  EXPECT_EQ(j["passwd"]["users"][0]["sshAuthorizedKeys"], nlohmann::json::array({"key-cluster", "key-group"}));
  EXPECT_EQ(j["passwd"]["users"][0]["groups"], nlohmann::json::array({"wheel", "docker"}));
  EXPECT_EQ(j["storage"]["files"][0]["append"].size(), 1u);
  EXPECT_EQ(j["kernelArguments"]["shouldExist"], nlohmann::json::array({"quiet", "console=ttyS0"}));
}

TEST(ConfigLayers, RemovalDeletesEarlierEntries) {
  auto r = compile({{"cluster.bu", kCluster}, {"machine.bu", R"(storage:
  files:
    - path: /etc/cluster-only
      ramfleet.remove: true
systemd:
  units:
    - name: app.service
      dropins:
        - name: 10-a.conf
          ramfleet.remove: true
passwd:
  users:
    - name: core
      ramfleet.remove: true
kernel_arguments:
  should_not_exist: [quiet]
)"}});
  auto j = ignition_json(r);
  ASSERT_EQ(j["storage"]["files"].size(), 1u);
  EXPECT_EQ(j["storage"]["files"][0]["path"], "/etc/motd");
  ASSERT_EQ(j["systemd"]["units"][0]["dropins"].size(), 1u);
  EXPECT_EQ(j["systemd"]["units"][0]["dropins"][0]["name"], "20-b.conf");
  EXPECT_FALSE(j.contains("passwd"));
  EXPECT_FALSE(j["kernelArguments"].contains("shouldExist"));
  EXPECT_EQ(j["kernelArguments"]["shouldNotExist"][0], "quiet");
  EXPECT_TRUE(r.diagnostics.empty()) << format_diagnostics(r.diagnostics);
}

TEST(ConfigLayers, RemovalEntryTakesOnlyItsKeyAndWarnsWhenNothingIsRemoved) {
  auto r = compile({{"cluster.bu", kCluster},
                    {"machine.bu",
                     "storage:\n  files:\n    - path: /nope\n      ramfleet.remove: true\n"
                     "    - path: /etc/motd\n      ramfleet.remove: true\n      mode: 0600\n"}});
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "machine.bu:7:7: error: an entry with ramfleet.remove: true takes only 'path', not 'mode'");
  EXPECT_EQ(l[1], "machine.bu:3:7: warning: ramfleet.remove of /nope: no earlier layer defines it");
}

TEST(ConfigLayers, KindChangeIsAConflictWarningAndStrictError) {
  const std::string machine = "storage:\n  links:\n    - path: /var/lib/app\n      target: /data\n";
  auto r = compile({{"cluster.bu", kCluster}, {"machine.bu", machine}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].str(),
            "machine.bu:3:13: warning: link /var/lib/app replaces the directory defined at cluster.bu:13:7 (mark "
            "that entry ramfleet.remove: true to say so)");
  auto j = nlohmann::json::parse(*r.output);
  EXPECT_FALSE(j["storage"].contains("directories"));
  EXPECT_EQ(j["storage"]["links"][0]["path"], "/var/lib/app");

  CompileOptions strict;
  strict.strict = true;
  EXPECT_FALSE(
      compile({{"cluster.bu", kCluster}, {"machine.bu", machine}}, Variables::object(), Target::ignition, strict).ok());
  // Saying so explicitly in the same layer is clean.
  auto explicit_remove = compile({{"cluster.bu", kCluster},
                                  {"machine.bu",
                                   "storage:\n  directories:\n    - path: /var/lib/app\n"
                                   "      ramfleet.remove: true\n" +
                                       machine.substr(9)}},
                                 Variables::object(), Target::ignition, strict);
  EXPECT_TRUE(explicit_remove.ok()) << format_diagnostics(explicit_remove.diagnostics);
}

TEST(ConfigLayers, VariantsMustAgree) {
  auto r = compile({{"cluster.bu", kCluster}, {"machine.bu", "variant: flatcar\nversion: 1.0.0\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(first_at(r), "machine.bu:1:10");
}

TEST(ConfigTemplates, VariablesOfAMachine) {
  MachineVariables facts;
  facts.hostname = "node-1";
  facts.mac = "52:54:00:00:00:01";
  facts.ip = "10.0.0.5";
  facts.labels = {{"role", "worker"}};
  facts.group = {{"dc", "par1"}};
  facts.cluster = {{"domain", "example.org"}};
  auto r = compile({{"m.bu", R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/hostname
      contents:
        inline: "{{hostname}}.{{cluster.domain}}"
    - path: "/etc/{{labels.role}}.conf"
      contents:
        inline: |
          mac={{mac}} ip={{ ip }} dc={{group.dc}}
          {{^labels.gpu}}no gpu{{/labels.gpu}}
      mode: 0644
)"}},
                   machine_variables(facts));
  auto j = ignition_json(r);
  EXPECT_EQ(decode_data_url(j["storage"]["files"][0]["contents"]["source"].get<std::string>()), "node-1.example.org");
  EXPECT_EQ(j["storage"]["files"][1]["path"], "/etc/worker.conf");
  EXPECT_EQ(decode_data_url(j["storage"]["files"][1]["contents"]["source"].get<std::string>()),
            "mac=52:54:00:00:00:01 ip=10.0.0.5 dc=par1\nno gpu\n");
}

TEST(ConfigTemplates, NoHtmlEscaping) {
  Variables v;
  v["x"] = "a<b>&\"c\"";
  auto j = ignition_json(compile({{"m.bu",
                                   "variant: fcos\nversion: 1.4.0\nsystemd:\n  units:\n    - name: a.service\n"
                                   "      contents: \"{{x}}\"\n"}},
                                 v));
  EXPECT_EQ(j["systemd"]["units"][0]["contents"], "a<b>&\"c\"");
}

TEST(ConfigTemplates, MissingVariableIsAnErrorAtTheTag) {
  auto r = compile({{"m.bu", R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      contents:
        inline: |
          first line
          host {{hostname}} role {{ labels.role }}
)"}},
                   Variables{{"hostname", "n1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.output.has_value());
  ASSERT_EQ(lines(r), std::vector<std::string>{
                          "m.bu:9:34: error: template variable 'labels.role' is not defined for this machine"});
}

TEST(ConfigTemplates, MalformedTemplateIsAnError) {
  auto r = compile({{"m.bu", "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: \"/etc/{{x\"\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(first_at(r), "m.bu:5:13");
}

}  // namespace
}  // namespace ramfleet::config::test
