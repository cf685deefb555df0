// Every class of mistake names the right file:line:column (1-based).
#include <fstream>

#include "test_support.hpp"

namespace ramfleet::config::test {
namespace {

const std::string kHead = "variant: fcos\nversion: 1.4.0\n";  // lines 1-2

TEST(ConfigErrors, UnknownKeyIsAWarningWithItsPosition) {
  auto r = compile_one(kHead + "storage:\n  files:\n    - path: /a\n      moed: 0644\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(lines(r), std::vector<std::string>{"machine.bu:6:7: warning: unknown key 'moed' in file"});
}

TEST(ConfigErrors, StrictTurnsWarningsIntoErrorsAndGivesNoOutput) {
  CompileOptions o;
  o.strict = true;
  auto r = compile_one(kHead + "storrage: {}\n", o);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.output.has_value());
  EXPECT_EQ(r.diagnostics[0].severity, Diagnostic::Severity::error);
  EXPECT_EQ(first_at(r), "machine.bu:3:1");
}

TEST(ConfigErrors, WrongTypes) {
  auto r = compile_one(kHead +
                       "storage:\n"
                       "  files: {path: /a}\n"  // line 4: a mapping where a list belongs
                       "systemd:\n"
                       "  units:\n"
                       "    - name: a.service\n"
                       "      enabled: yes please\n"  // line 8
                       "passwd:\n"
                       "  users:\n"
                       "    - name: u\n"
                       "      uid: -3\n"                   // line 12
                       "      ssh_authorized_keys: key\n"  // line 13
  );
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 4u) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(l[0], "machine.bu:4:10: error: storage.files must be a list, not a mapping");
  EXPECT_EQ(l[1], "machine.bu:8:16: error: unit enabled must be a boolean (true or false), not 'yes please'");
  EXPECT_EQ(l[2], "machine.bu:12:12: error: uid must be a non-negative integer, not '-3'");
  EXPECT_EQ(l[3], "machine.bu:13:28: error: ssh_authorized_keys must be a list, not a scalar");
}

TEST(ConfigErrors, RelativePath) {
  auto r = compile_one(kHead + "storage:\n  directories:\n    - path: var/lib\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(lines(r)[0], "machine.bu:5:13: error: directory.path 'var/lib' is not absolute (must start with '/')");
}

TEST(ConfigErrors, DuplicatePathAcrossFilesAndLinksInOneLayer) {
  auto r = compile_one(kHead +
                       "storage:\n"
                       "  files:\n"
                       "    - path: /etc/x\n"  // line 5
                       "  links:\n"
                       "    - path: /etc/x\n"  // line 7
                       "      target: /y\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(lines(r)[0], "machine.bu:7:13: error: duplicate path /etc/x (first at machine.bu:5:13)");
}

TEST(ConfigErrors, DuplicateUnitAndYamlKey) {
  auto r = compile_one(kHead +
                       "systemd:\n"
                       "  units:\n"
                       "    - name: a.service\n"
                       "    - name: a.service\n"  // line 6
                       "      mask: true\n"
                       "      mask: false\n");  // line 8
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "machine.bu:8:7: error: duplicate key 'mask' in unit (first at machine.bu:7:7)");
  EXPECT_EQ(l[1], "machine.bu:6:7: error: duplicate unit a.service (first at machine.bu:5:7)");
}

TEST(ConfigErrors, InvalidUnitAndDropinNames) {
  auto r = compile_one(kHead +
                       "systemd:\n"
                       "  units:\n"
                       "    - name: app\n"  // no type suffix
                       "    - name: b.service\n"
                       "      dropins:\n"
                       "        - name: override\n");  // line 8
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].substr(0, 51), "machine.bu:5:13: error: invalid unit name 'app' (ne");
  EXPECT_EQ(l[1], "machine.bu:8:17: error: invalid dropin name 'override' (must end in .conf, no '/')");
}

TEST(ConfigErrors, BadModes) {
  auto r = compile_one(kHead +
                       "storage:\n"
                       "  files:\n"
                       "    - path: /a\n"
                       "      mode: 0999\n"  // line 6: not octal
                       "    - path: /b\n"
                       "      mode: 99999\n"  // line 8: too large
                       "    - path: /c\n"
                       "      mode: rw\n");  // line 10
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0], "machine.bu:6:13: error: invalid mode '0999': expected an octal number such as 0644");
  EXPECT_EQ(l[1], "machine.bu:8:13: error: invalid mode '99999': larger than 07777");
  EXPECT_EQ(l[2], "machine.bu:10:13: error: invalid mode 'rw': expected an octal number such as 0644");
}

TEST(ConfigErrors, DecimalModeWithSpecialBitsWarns) {
  // 644 decimal is 01204 octal: legal from spec 3.4.0 (fcos 1.5.0), but surely a typo.
  auto r = compile_one("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      mode: 644\n");
  ASSERT_EQ(r.diagnostics.size(), 1u) << format_diagnostics(r.diagnostics);
  EXPECT_EQ(r.diagnostics[0].severity, Diagnostic::Severity::warning);
  EXPECT_EQ(first_at(r), "machine.bu:6:13");
}

TEST(ConfigErrors, LocalFileMissingEscapingOrWithoutFilesDir) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "files");
  std::ofstream(dir.path() / "secret") << "s";
  std::filesystem::create_symlink(dir.path() / "secret", dir.path() / "files/link");
  const std::string text = kHead +
                           "storage:\n"
                           "  files:\n"
                           "    - path: /a\n"
                           "      contents: {local: missing.txt}\n"  // line 6, col 25
                           "    - path: /b\n"
                           "      contents: {local: ../secret}\n"  // line 8
                           "    - path: /c\n"
                           "      contents: {local: link}\n";  // line 10
  CompileOptions o;
  o.files_dir = dir.path() / "files";
  auto r = compile_one(text, o);
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].substr(0, 70), "machine.bu:6:25: error: local file 'missing.txt' not found in --files-");
  EXPECT_EQ(l[1], "machine.bu:8:25: error: local '../secret' escapes --files-dir");
  EXPECT_EQ(l[2], "machine.bu:10:25: error: local 'link' escapes --files-dir (through a symbolic link)");

  auto none = compile_one(text);
  EXPECT_EQ(lines(none)[0],
            "machine.bu:6:25: error: local 'missing.txt' needs --files-dir (no files directory was given)");
}

TEST(ConfigErrors, ContentsWithTwoSourcesAndBadHash) {
  auto r = compile_one(kHead +
                       "storage:\n"
                       "  files:\n"
                       "    - path: /a\n"
                       "      contents:\n"
                       "        inline: x\n"  // line 7
                       "        source: https://e/x\n"
                       "        verification: {hash: md5-abc}\n");  // line 9
  ASSERT_FALSE(r.ok());
  auto l = lines(r);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].substr(0, 50), "machine.bu:9:30: error: invalid verification hash ");
  EXPECT_EQ(l[1], "machine.bu:7:9: error: file contents: only one of inline, local and source may be given");
}

TEST(ConfigErrors, InvalidYamlNamesItsPosition) {
  auto r = compile_one(kHead + "storage:\n  files: [\n    - path: /a\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics[0].file, "machine.bu");
  EXPECT_GE(r.diagnostics[0].line, 4);
  EXPECT_NE(r.diagnostics[0].message.find("invalid YAML"), std::string::npos);
}

TEST(ConfigErrors, UnsupportedButaneSectionsAreErrorsNotDropped) {
  auto r = compile_one(kHead + "storage:\n  disks:\n    - device: /dev/sda\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(first_at(r), "machine.bu:4:3");
}

TEST(ConfigErrors, MissingVariantAndVersion) {
  auto r = compile_one("storage: {}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(first_at(r), "machine.bu:1:1");
}

}  // namespace
}  // namespace ramfleet::config::test
