// cloud-config and apkovl outputs: what is expressed, and what is refused.
#include <yaml-cpp/yaml.h>

#include <map>

#include "config/encoding.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

namespace ramfleet::config::test {
namespace {

const std::string kHead = "variant: fcos\nversion: 1.4.0\n";

CompileResult compile_to(Target target, const std::string& text) {
  return compile({{"m.bu", text}}, Variables::object(), target);
}

struct TarMember {
  char type;
  int mode;
  int uid;
  std::string data;
  std::string link;
};

// Reads back our own ustar output (independently of the writer's code).
std::map<std::string, TarMember> untar(const std::string& gz) {
  auto tar = gzip_decompress(gz);
  EXPECT_TRUE(tar.has_value());
  std::map<std::string, TarMember> out;
  std::size_t pos = 0;
  while (tar && pos + 512 <= tar->size() && (*tar)[pos] != '\0') {
    const char* h = tar->data() + pos;
    std::string name(h, strnlen(h, 100));
    std::string prefix(h + 345, strnlen(h + 345, 155));
    if (!prefix.empty()) name = prefix + "/" + name;
    auto size = std::stoul(std::string(h + 124, 11), nullptr, 8);
    TarMember m{h[156], static_cast<int>(std::stoul(std::string(h + 100, 7), nullptr, 8)),
                static_cast<int>(std::stoul(std::string(h + 108, 7), nullptr, 8)), tar->substr(pos + 512, size),
                std::string(h + 157, strnlen(h + 157, 100))};
    out[name] = m;
    pos += 512 + (size + 511) / 512 * 512;
  }
  return out;
}

TEST(ConfigCloudConfig, FilesUsersUnitsHostname) {
  auto r = compile_to(Target::cloud_config, kHead + R"(storage:
  files:
    - path: /etc/hostname
      contents: {inline: "node-1\n"}
    - path: /etc/app.conf
      mode: 0600
      user: {name: core}
      contents: {inline: "a=1\n"}
      append:
        - inline: "b=2\n"
    - path: /etc/bin.dat
      user: {id: 1000}
      contents: {inline: "\x01\x02"}
  links:
    - path: /etc/l
      target: /etc/app.conf
      overwrite: true
systemd:
  units:
    - name: app.service
      enabled: true
      contents: "[Service]\nExecStart=/bin/true\n"
passwd:
  users:
    - name: core
      password_hash: "$6$x"
      ssh_authorized_keys: [ssh-ed25519 K]
      uid: 1000
)");
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(r.output->substr(0, 14), "#cloud-config\n");
  YAML::Node doc = YAML::Load(*r.output);
  EXPECT_EQ(doc["hostname"].as<std::string>(), "node-1");
  auto wf = doc["write_files"];
  ASSERT_EQ(wf.size(), 4u);
  EXPECT_EQ(wf[0]["path"].as<std::string>(), "/etc/app.conf");
  EXPECT_EQ(wf[0]["permissions"].as<std::string>(), "0600");
  EXPECT_EQ(wf[0]["owner"].as<std::string>(), "core");
  EXPECT_EQ(wf[1]["append"].as<bool>(), true);
  EXPECT_EQ(wf[1]["content"].as<std::string>(), "b=2\n");
  EXPECT_EQ(wf[2]["encoding"].as<std::string>(), "b64");
  EXPECT_EQ(base64_decode(wf[2]["content"].as<std::string>()), std::string("\x01\x02"));
  EXPECT_EQ(wf[3]["path"].as<std::string>(), "/etc/systemd/system/app.service");
  auto users = doc["users"];
  EXPECT_EQ(users[0]["hashed_passwd"].as<std::string>(), "$6$x");
  EXPECT_EQ(users[0]["lock_passwd"].as<bool>(), false);
  EXPECT_EQ(users[0]["uid"].as<int>(), 1000);
  std::vector<std::string> cmds;
  for (const auto& c : doc["runcmd"]) {
    std::string joined;
    for (const auto& a : c) joined += (joined.empty() ? "" : " ") + a.as<std::string>();
    cmds.push_back(joined);
  }
  EXPECT_EQ(cmds,
            (std::vector<std::string>{"mkdir -p /etc", "ln -s -f -n /etc/app.conf /etc/l", "chown 1000 /etc/bin.dat",
                                      "systemctl daemon-reload", "systemctl enable --now app.service"}));
}

TEST(ConfigCloudConfig, InexpressibleThingsAreErrorsAtTheirLines) {
  auto r = compile_to(Target::cloud_config, kHead + R"(storage:
  files:
    - path: /opt/tool
      contents: {source: "https://e/tool"}
    - path: /etc/keep
      overwrite: false
passwd:
  groups:
    - name: g
      gid: 5
kernel_arguments:
  should_exist: [quiet]
)");
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 4u) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(l[0].substr(0, 16), "m.bu:14:18: erro");  // kernel_arguments
  EXPECT_EQ(l[1], "m.bu:12:12: error: group gid cannot be expressed in cloud-config");
  EXPECT_EQ(l[2].substr(0, 48), "m.bu:6:17: error: remote source 'https://e/tool'");
  EXPECT_EQ(l[3].substr(0, 43), "m.bu:8:18: error: overwrite: false (fail if");
}

TEST(ConfigCloudConfig, EmbeddedVerificationIsCheckedAtCompileTime) {
  std::string good = "sha256-" + sha256_hex("abc");
  auto ok = compile_to(Target::cloud_config, kHead +
                                                 "storage:\n  files:\n    - path: /a\n      contents:\n"
                                                 "        inline: abc\n        verification: {hash: " +
                                                 good + "}\n");
  EXPECT_TRUE(ok.ok()) << format_diagnostics(ok.diagnostics);
  std::string bad = "sha256-" + sha256_hex("abd");
  auto no = compile_to(Target::cloud_config, kHead +
                                                 "storage:\n  files:\n    - path: /a\n      contents:\n"
                                                 "        inline: abc\n        verification: {hash: " +
                                                 bad + "}\n");
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(first_at(no), "m.bu:8:30");
}

TEST(ConfigApkovl, OverlayHasFilesHostnameRunlevelsAndIsDeterministic) {
  const std::string text = kHead + R"(storage:
  files:
    - path: /etc/hostname
      contents: {inline: "node-1\n"}
    - path: /etc/conf.d/app
      mode: 0600
      user: {id: 100}
      contents: {inline: "x"}
      append: [{inline: "y"}]
  directories:
    - path: /srv/data
      mode: 0700
  links:
    - path: /etc/localtime
      target: /usr/share/zoneinfo/UTC
systemd:
  units:
    - name: sshd.service
      enabled: true
    - name: chronyd.service
      enabled: false
)";
  auto r = compile_to(Target::apkovl, text);
  ASSERT_TRUE(r.ok()) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(*r.output, *compile_to(Target::apkovl, text).output);
  auto m = untar(*r.output);
  EXPECT_EQ(m["etc/hostname"].data, "node-1\n");
  EXPECT_EQ(m["etc/conf.d/app"].data, "xy");
  EXPECT_EQ(m["etc/conf.d/app"].mode, 0600);
  EXPECT_EQ(m["etc/conf.d/app"].uid, 100);
  EXPECT_EQ(m["srv/data/"].type, '5');
  EXPECT_EQ(m["srv/data/"].mode, 0700);
  EXPECT_EQ(m["etc/localtime"].type, '2');
  EXPECT_EQ(m["etc/runlevels/default/sshd"].link, "/etc/init.d/sshd");
  EXPECT_EQ(m.count("etc/runlevels/default/chronyd"), 0u);
  EXPECT_EQ(m.count("etc/.default_boot_services"), 1u);
  EXPECT_EQ(m["etc/"].type, '5');  // parents are in the archive
}

TEST(ConfigApkovl, SystemdOnlyThingsAreErrors) {
  auto r = compile_to(Target::apkovl, kHead + R"(systemd:
  units:
    - name: app.service
      contents: "[Service]\n"
    - name: x.timer
      enabled: true
storage:
  files:
    - path: /etc/a
      user: {name: alice}
)");
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 3u) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(l[0].substr(0, 20), "m.bu:12:20: error: u");
  EXPECT_EQ(l[1].substr(0, 63), "m.bu:6:17: error: systemd unit contents for app.service cannot ");
  EXPECT_EQ(l[2].substr(0, 40), "m.bu:7:7: error: only .service units map");
}

}  // namespace
}  // namespace ramfleet::config::test
