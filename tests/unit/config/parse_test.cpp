// Parsing Butane YAML into Ignition JSON: what comes out for each section,
// spec versions per variant, and feature gates.
#include <fstream>

#include "config/encoding.hpp"
#include "core/sha256.hpp"
#include "test_support.hpp"

namespace ramfleet::config::test {
namespace {

TEST(ConfigParse, FilesDirectoriesLinksUnitsUsersToIgnition) {
  auto r = compile_one(R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      mode: 0644
      overwrite: true
      user: {name: core}
      group: {id: 1000}
      contents:
        inline: "hello world\n"
      append:
        - inline: more
    - path: /opt/tool
      contents:
        source: https://example.com/tool.gz
        compression: gzip
        verification:
          hash: sha512-00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        http_headers:
          - name: Authorization
            value: Bearer x
  directories:
    - path: /var/lib/app
      mode: 0o750
  links:
    - path: /usr/local/bin/tool
      target: /opt/tool
      hard: false
systemd:
  units:
    - name: app.service
      enabled: true
      contents: "[Service]\nExecStart=/bin/true\n"
      dropins:
        - name: 10-env.conf
          contents: "[Service]\nEnvironment=A=1\n"
    - name: debug-shell.service
      mask: true
passwd:
  users:
    - name: core
      password_hash: $6$abc
      ssh_authorized_keys: [ssh-ed25519 AAAA core]
      uid: 1000
      groups: [wheel, docker]
      shell: /bin/bash
      should_exist: true
  groups:
    - name: docker
      gid: 990
      system: true
kernel_arguments:
  should_exist: [quiet]
  should_not_exist: [debug]
)");
  auto j = ignition_json(r);
  EXPECT_EQ(j["ignition"]["version"], "3.3.0");
  const auto& f = j["storage"]["files"][0];
  EXPECT_EQ(f["path"], "/etc/motd");
  EXPECT_EQ(f["mode"], 0644);
  EXPECT_EQ(f["overwrite"], true);
  EXPECT_EQ(f["user"]["name"], "core");
  EXPECT_EQ(f["group"]["id"], 1000);
  EXPECT_EQ(decode_data_url(f["contents"]["source"].get<std::string>()), "hello world\n");
  EXPECT_EQ(decode_data_url(f["append"][0]["source"].get<std::string>()), "more");
  const auto& tool = j["storage"]["files"][1];
  EXPECT_EQ(tool["contents"]["source"], "https://example.com/tool.gz");
  EXPECT_EQ(tool["contents"]["compression"], "gzip");
  EXPECT_EQ(tool["contents"]["httpHeaders"][0]["name"], "Authorization");
  EXPECT_EQ(tool["contents"]["verification"]["hash"].get<std::string>().substr(0, 7), "sha512-");
  EXPECT_EQ(j["storage"]["directories"][0]["mode"], 0750);
  EXPECT_EQ(j["storage"]["links"][0]["target"], "/opt/tool");
  EXPECT_EQ(j["storage"]["links"][0]["hard"], false);
  EXPECT_EQ(j["systemd"]["units"][0]["enabled"], true);
  EXPECT_EQ(j["systemd"]["units"][0]["dropins"][0]["name"], "10-env.conf");
  EXPECT_EQ(j["systemd"]["units"][1]["mask"], true);
  const auto& u = j["passwd"]["users"][0];
  EXPECT_EQ(u["passwordHash"], "$6$abc");
  EXPECT_EQ(u["sshAuthorizedKeys"][0], "ssh-ed25519 AAAA core");
  EXPECT_EQ(u["groups"], nlohmann::json::array({"wheel", "docker"}));
  EXPECT_EQ(u["shouldExist"], true);
  EXPECT_EQ(j["passwd"]["groups"][0]["gid"], 990);
  EXPECT_EQ(j["kernelArguments"]["shouldExist"][0], "quiet");
  EXPECT_EQ(j["kernelArguments"]["shouldNotExist"][0], "debug");
  EXPECT_TRUE(r.diagnostics.empty()) << format_diagnostics(r.diagnostics);
}

TEST(ConfigParse, ButaneVersionsMapToIgnitionSpecs) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"fcos", "1.0.0", "3.0.0"}, {"fcos", "1.1.0", "3.1.0"},    {"fcos", "1.2.0", "3.2.0"},
      {"fcos", "1.3.0", "3.2.0"}, {"fcos", "1.4.0", "3.3.0"},    {"fcos", "1.5.0", "3.4.0"},
      {"fcos", "1.6.0", "3.5.0"}, {"flatcar", "1.0.0", "3.3.0"}, {"flatcar", "1.1.0", "3.4.0"}};
  for (const auto& [variant, version, spec] : cases) {
    auto j = ignition_json(compile_one("variant: " + variant + "\nversion: " + version + "\n"));
    EXPECT_EQ(j["ignition"]["version"], spec) << variant << " " << version;
  }
}

TEST(ConfigParse, UnknownVersionIsAnErrorAtItsValue) {
  auto r = compile_one("variant: fcos\nversion: 1.9.0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(first_at(r), "machine.bu:2:10");
  EXPECT_NE(r.diagnostics[0].message.find("unsupported version '1.9.0'"), std::string::npos);
}

TEST(ConfigParse, ForcedIgnitionVersionWins) {
  CompileOptions o;
  o.ignition_version = IgnitionSpec{3, 2, 0};
  auto j = ignition_json(compile_one("variant: flatcar\nversion: 1.0.0\n", o));
  EXPECT_EQ(j["ignition"]["version"], "3.2.0");
}

TEST(ConfigParse, FieldsNewerThanTheSpecAreErrorsAtTheirLine) {
  auto r = compile_one(R"(variant: fcos
version: 1.0.0
kernel_arguments:
  should_exist:
    - quiet
passwd:
  users:
    - name: old
      should_exist: false
)");
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0],
            "machine.bu:5:7: error: kernel_arguments needs Ignition spec 3.3.0 or later; this config targets 3.0.0");
  EXPECT_EQ(l[1], "machine.bu:9:21: error: should_exist needs Ignition spec 3.2.0 or later; this config targets 3.0.0");
}

TEST(ConfigParse, LocalContentsAndTreesComeFromFilesDir) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "tree/bin");
  std::ofstream(dir.path() / "motd") << "from local\n";
  std::ofstream(dir.path() / "tree/bin/run.sh") << "#!/bin/sh\n";
  std::filesystem::permissions(dir.path() / "tree/bin/run.sh", std::filesystem::perms::owner_all);
  std::ofstream(dir.path() / "tree/readme") << "r";
  std::filesystem::create_symlink("run.sh", dir.path() / "tree/bin/run");
  CompileOptions o;
  o.files_dir = dir.path();
  auto j = ignition_json(compile_one(R"(variant: fcos
version: 1.4.0
storage:
  files:
    - path: /etc/motd
      contents:
        local: motd
  trees:
    - local: tree
      path: /opt/app
)",
                                     o));
  const auto& files = j["storage"]["files"];
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(decode_data_url(files[0]["contents"]["source"].get<std::string>()), "from local\n");
  EXPECT_EQ(files[1]["path"], "/opt/app/bin/run.sh");
  EXPECT_EQ(files[1]["mode"], 0755);
  EXPECT_EQ(files[2]["path"], "/opt/app/readme");
  EXPECT_FALSE(files[2].contains("mode"));
  EXPECT_EQ(j["storage"]["links"][0]["path"], "/opt/app/bin/run");
  EXPECT_EQ(j["storage"]["links"][0]["target"], "run.sh");
}

TEST(ConfigParse, OutputIsDeterministicAndEtagIsItsSha256) {
  const std::string text = "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /a\n";
  auto a = compile_one(text);
  auto b = compile_one(text);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a.output, *b.output);
  EXPECT_EQ(a.etag, sha256_hex(*a.output));
  EXPECT_EQ(a.content_type, "application/vnd.coreos.ignition+json");
}

TEST(ConfigParse, PrettyIndentsCompactDoesNot) {
  const std::string text = "variant: fcos\nversion: 1.4.0\n";
  CompileOptions pretty;
  pretty.pretty = true;
  EXPECT_EQ(*compile_one(text).output, R"({"ignition":{"version":"3.3.0"}})");
  EXPECT_EQ(*compile_one(text, pretty).output, "{\n  \"ignition\": {\n    \"version\": \"3.3.0\"\n  }\n}\n");
}

TEST(ConfigEncoding, DataUrlAndBase64RoundTrip) {
  for (std::string s : {std::string(""), std::string("a"), std::string("hello world\n"), std::string("\0\xff\x10", 3),
                        std::string(1000, 'x')}) {
    EXPECT_EQ(decode_data_url(data_url(s)), s);
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(gzip_decompress(gzip_compress(s)), s);
  }
  EXPECT_EQ(data_url("a b"), "data:,a%20b");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(decode_data_url("data:,%4"));
  EXPECT_FALSE(decode_data_url("https://x"));
}

}  // namespace
}  // namespace ramfleet::config::test
