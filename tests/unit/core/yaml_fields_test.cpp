// The field reader every YAML file goes through: each mistake is reported
// once, at file:line:column of the offending node, and reading goes on.
#include "core/yaml_fields.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ramfleet {
namespace {

using namespace std::chrono_literals;

struct Read {
  Diagnostics out;
  YamlFields y{"f.yaml", out};
  YAML::Node root;
  explicit Read(const std::string& text) { root = *y.parse(text); }
  [[nodiscard]] std::string all() const {
    std::string s;
    for (const auto& d : out) s += d.str() + "\n";
    return s;
  }
};

TEST(YamlFields, ShapeErrorsNameWhatWasFound) {
  Read r("a: [1, 2]\nb: x\nc: {k: v}\n");
  EXPECT_FALSE(r.y.expect_map(r.root["a"], "a"));
  EXPECT_FALSE(r.y.expect_sequence(r.root["b"], "b"));
  EXPECT_FALSE(r.y.string(r.root["c"], "c"));
  EXPECT_EQ(r.all(),
            "f.yaml:1:4: error: a: expected a mapping, found a list\n"
            "f.yaml:2:4: error: b: expected a list, found \"x\"\n"
            "f.yaml:3:4: error: c: expected a string, found a mapping\n");
  EXPECT_EQ(r.y.errors(), 3u);
}

TEST(YamlFields, UnknownKeysAreReportedAtTheKeyAndMissingOnesAtTheParent) {
  Read r("top:\n  port: 1\n  prot: 2\n");
  const YAML::Node top = r.root["top"];
  EXPECT_TRUE(r.y.expect_map(top, "top", {"port", "host"}));
  EXPECT_FALSE(r.y.required(top, "host", "top"));
  EXPECT_TRUE(r.y.required(top, "port", "top"));
  EXPECT_EQ(r.all(),
            "f.yaml:3:3: error: unknown key 'prot' in top (expected one of: port, host)\n"
            "f.yaml:2:3: error: top: missing required key 'host'\n");
}

TEST(YamlFields, TypedScalarsAndTheirRanges) {
  Read r("n: 70000\nb: maybe\nip: 10.0.0.300\nmac: 52:54:00\nnet: 10.0.0.0/33\ngood: 42\nyes: on\n");
  EXPECT_FALSE(r.y.integer(r.root["n"], "n", 1, 65535));
  EXPECT_FALSE(r.y.boolean(r.root["b"], "b"));
  EXPECT_FALSE(r.y.ipv4(r.root["ip"], "ip"));
  EXPECT_FALSE(r.y.mac(r.root["mac"], "mac"));
  EXPECT_FALSE(r.y.subnet(r.root["net"], "net"));
  EXPECT_EQ(r.y.integer(r.root["good"], "good", 1, 100), 42);
  EXPECT_EQ(r.y.boolean(r.root["yes"], "yes"), true);
  EXPECT_EQ(r.all(),
            "f.yaml:1:4: error: n must be between 1 and 65535\n"
            "f.yaml:2:4: error: b must be true or false\n"
            "f.yaml:3:5: error: ip must be an IPv4 address like 10.0.0.1\n"
            "f.yaml:4:6: error: mac must be a MAC address like 52:54:00:12:34:56\n"
            "f.yaml:5:6: error: net must be a subnet like 10.0.0.0/24\n");
}

TEST(YamlFields, DurationsUseCoreGrammarWithTheFieldsBareUnit) {
  Read r("a: 90\nb: 1h30m\nc: 500ms\nd: 250\ne: 0s\nf: soon\n");
  EXPECT_EQ(r.y.duration(r.root["a"], "a"), 90s);
  EXPECT_EQ(r.y.duration(r.root["b"], "b"), 5400s);
  EXPECT_EQ(r.y.duration_ms(r.root["c"], "c"), 500ms);
  EXPECT_EQ(r.y.duration_ms(r.root["a"], "a"), 90s);                            // new keys: seconds
  EXPECT_EQ(r.y.duration_ms(r.root["d"], "d", BareUnit::milliseconds), 250ms);  // the old *_ms keys
  EXPECT_FALSE(r.y.duration(r.root["c"], "c"));                                 // whole seconds only there
  EXPECT_FALSE(r.y.duration_ms(r.root["e"], "e"));
  EXPECT_FALSE(r.y.duration_ms(r.root["f"], "f"));
  ASSERT_EQ(r.out.size(), 3u) << r.all();
  EXPECT_EQ(r.out[0].line, 3u);
  EXPECT_EQ(r.out[1].line, 5u);
  EXPECT_NE(r.out[2].message.find("f must be a positive duration like 500ms, 10s"), std::string::npos);
}

TEST(YamlFields, SizesTakeBinaryUnits) {
  Read r("a: 65536\nb: 64KiB\nc: 1M\nd: 2GiB\ne: 12 KiB\n");
  EXPECT_EQ(r.y.size(r.root["a"], "a", 1, 1ULL << 40), 65536u);
  EXPECT_EQ(r.y.size(r.root["b"], "b", 1, 1ULL << 40), 65536u);
  EXPECT_EQ(r.y.size(r.root["c"], "c", 1, 1ULL << 40), 1048576u);
  EXPECT_FALSE(r.y.size(r.root["d"], "d", 1, 1ULL << 30));
  EXPECT_FALSE(r.y.size(r.root["e"], "e", 1, 1ULL << 30));
  EXPECT_EQ(r.all(),
            "f.yaml:4:4: error: d must be between 1 and 1073741824 bytes\n"
            "f.yaml:5:4: error: e must be a size in bytes like 65536, 64KiB or 1MiB\n");
}

TEST(YamlFields, EnumsListTheirChoices) {
  enum class Mode { a, b };
  Read r("m: b\nn: c\n");
  EXPECT_EQ(r.y.one_of<Mode>(r.root["m"], "m", {{"a", Mode::a}, {"b", Mode::b}}), Mode::b);
  EXPECT_FALSE(r.y.one_of<Mode>(r.root["n"], "n", {{"a", Mode::a}, {"b", Mode::b}}));
  EXPECT_EQ(r.all(), "f.yaml:2:4: error: n: \"c\" is not one of: a, b\n");
}

TEST(YamlFields, SyntaxErrorsAndMissingFilesAreDiagnosticsToo) {
  Diagnostics out;
  YamlFields y("f.yaml", out);
  EXPECT_FALSE(y.parse("a: \"open\nb: 2\n"));
  YamlFields missing("/nonexistent/ramfleet-test.yaml", out);
  EXPECT_FALSE(missing.load());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].line, 1u);
  EXPECT_EQ(out[0].column, 4u);
  EXPECT_EQ(out[1].str(), "/nonexistent/ramfleet-test.yaml: error: cannot open file");
  EXPECT_EQ(y.errors(), 1u);
  EXPECT_EQ(missing.errors(), 1u);
}

TEST(YamlFields, ACollectorSinkKeepsItsStrictMode) {
  DiagnosticCollector strict(true);
  YamlFields y("layer.bu", strict);
  auto root = y.parse("a: 1\nb: [\n");
  EXPECT_FALSE(root);
  ASSERT_TRUE(y.parse("a: 1\n"));
  y.warning(*y.parse("x: 2\n"), "a warning, made an error by strict mode");
  ASSERT_EQ(strict.all().size(), 2U);
  EXPECT_TRUE(strict.has_errors());
  EXPECT_EQ(strict.all()[0].location().str(), "layer.bu:2:4");
  EXPECT_TRUE(strict.all()[1].is_error());
  EXPECT_EQ(y.location(*y.parse("k: v\n")).str(), "layer.bu:1:1");
}

}  // namespace
}  // namespace ramfleet
