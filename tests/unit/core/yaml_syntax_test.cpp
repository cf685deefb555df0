// YAML syntax errors point where the broken construct starts, through the real
// yaml-cpp: the positions in the comments are what yaml-cpp alone reports.
#include "core/yaml_syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ramfleet {
namespace {

// "file:line:col: error: message" of the load's diagnostic, or "ok".
std::string load(const std::string& text) {
  auto r = load_yaml(text, "f.yaml");
  if (const auto* d = std::get_if<Diagnostic>(&r)) return d->str();
  return "ok";
}

std::string where(const std::string& text) {
  auto s = load(text);
  if (s == "ok") return s;
  auto first = s.find(':');
  return s.substr(first + 1, s.find(':', s.find(':', first + 1) + 1) - first - 1);
}

TEST(YamlSyntax, UnterminatedQuoteInsideFlowIsReportedAtTheQuote) {
  // yaml-cpp: 7:1 "end of sequence flow not found" (the end of the file).
  std::string text = "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nroles: [\"control, worker]\n";
  EXPECT_EQ(where(text), "6:9");
  EXPECT_NE(load(text).find("the double-quoted string opened here is not closed (the parser gave up at 7:1"),
            std::string::npos)
      << load(text);
}

TEST(YamlSyntax, UnclosedFlowSequenceAndMappingAreReportedAtTheirBracket) {
  EXPECT_EQ(where("a: [1, 2\nb: 3\n"), "1:4");       // yaml-cpp: 2:2
  EXPECT_EQ(where("a: {x: 1\nb: 3\n"), "1:4");       // yaml-cpp: 2:2
  EXPECT_EQ(where("a: [1,\n  2,\n  3\n"), "1:4");    // yaml-cpp: 4:1
  EXPECT_EQ(where("a: {x: [1, 2}\nb: 3\n"), "1:8");  // yaml-cpp: 1:13 "illegal flow end"
  EXPECT_NE(load("a: [1, 2\nb: 3\n").find("the '[' opened here is not closed"), std::string::npos);
}

TEST(YamlSyntax, UnterminatedQuoteAtEndOfInputIsReportedAtTheQuote) {
  EXPECT_EQ(where("a: \"abc"), "1:4");  // yaml-cpp: 1:8 "illegal EOF in scalar"
}

TEST(YamlSyntax, QuoteClosedByALaterLinesQuoteIsReportedWhereItOpened) {
  // The quote opened on line 2 is "closed" by the one that opens line 4's
  // value; yaml-cpp gives up at 4:5 with "end of map not found".
  std::string text = "a: 1\nname: \"abc\ng: 7\nh: \"x\"\nz: 1\n";
  EXPECT_EQ(where(text), "2:7");
  EXPECT_NE(load(text).find("runs on to line 4: is its closing quote missing?"), std::string::npos) << load(text);
}

TEST(YamlSyntax, QuoteLeftOpenAtEndOfFileIsAnErrorNotAValueSwallowingTheFile) {
  // yaml-cpp accepts these: the value becomes "abc g: 7".
  EXPECT_EQ(where("a: 1\nname: \"abc\ng: 7\n"), "2:7");
  EXPECT_EQ(where("a: 1\nname: 'abc\ng: 7\n"), "2:7");
  EXPECT_EQ(where("list:\n  - \"abc\n  - def\n"), "2:5");
  EXPECT_EQ(where("a: 'it''s\nb: 1\n"), "1:4");  // '' is an escaped quote, not the end
}

TEST(YamlSyntax, OtherErrorsKeepTheParsersPosition) {
  EXPECT_EQ(load("a: 1\n b: 2\n"), "f.yaml:2:3: error: invalid YAML: illegal map value");
  EXPECT_EQ(where("a: [1, 2]]\n"), "1:10");
}

TEST(YamlSyntax, TheCallerNamesTheKindOfError) {
  auto r = load_yaml("a: [1\n", "cluster.yaml", "YAML syntax");
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(r));
  EXPECT_EQ(std::get<Diagnostic>(r).message.rfind("YAML syntax: ", 0), 0u);
}

TEST(YamlSyntax, QuotesThatOpenNothingAreNotMistakenForOpenStrings) {
  EXPECT_EQ(load("a: it's fine\nb: x \"y\n"), "ok");                   // inside plain scalars
  EXPECT_EQ(load("# don't\na: 1 # it's\n"), "ok");                     // in comments
  EXPECT_EQ(load("run: |\n  echo \"hi\n\n  more\nb: \"x\"\n"), "ok");  // in a block scalar
  EXPECT_EQ(load("k:\n  - >-\n\n    text \"\n  - \"x\"\n"), "ok");
  EXPECT_EQ(load("a: \"x \\\" y\"\nb: 'it''s'\n"), "ok");  // escapes
  EXPECT_EQ(load("%YAML 1.2\n---\na: [\"x\", {b: 'c'}]\n...\n"), "ok");
  EXPECT_EQ(load("a: !!str \"x\"\nb: &anchor 'y'\nc: *anchor\n"), "ok");
  EXPECT_EQ(load(""), "ok");
}

TEST(YamlSyntax, ScanReportsWhatIsOpenAtAPosition) {
  std::string text = "a: [1, {b: \"x";
  auto scan = scan_yaml(text, text.size());
  ASSERT_EQ(scan.open.size(), 3u);
  EXPECT_EQ(scan.open[0].kind, YamlOpening::Kind::flow_sequence);
  EXPECT_EQ(scan.open[1].kind, YamlOpening::Kind::flow_mapping);
  EXPECT_EQ(scan.open[2].kind, YamlOpening::Kind::double_quoted);
  EXPECT_EQ(scan.open[2].column, 11u);
  EXPECT_TRUE(scan_yaml(text, 3).open.empty());
}

}  // namespace
}  // namespace ramfleet
