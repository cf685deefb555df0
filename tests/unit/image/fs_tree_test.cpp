#include "image/fs_tree.hpp"

#include <gtest/gtest.h>

namespace ramfleet::image {
namespace {

TEST(NormalizePath, StripsDotsAndSlashes) {
  EXPECT_EQ(normalize_path("./usr/bin/sh"), "usr/bin/sh");
  EXPECT_EQ(normalize_path("/etc//passwd/"), "etc/passwd");
  EXPECT_EQ(normalize_path("a/./b"), "a/b");
}

TEST(NormalizePath, RefusesEscapesAndTheRoot) {
  EXPECT_EQ(normalize_path("../etc/passwd"), std::nullopt);
  EXPECT_EQ(normalize_path("a/../../b"), std::nullopt);
  EXPECT_EQ(normalize_path("./"), std::nullopt);
  EXPECT_EQ(normalize_path(""), std::nullopt);
}

FsEntry file() { return FsEntry{}; }

TEST(FsTree, PutCreatesParentsBeforeChildrenInOrder) {
  FsTree t;
  t.put("usr/bin/sh", file());
  t.put("usr-local", file());
  std::vector<std::string> names;
  for (const auto& [n, e] : t.entries()) names.push_back(n);
  // "usr" precedes "usr-local" and "usr/bin": parents always come first.
  EXPECT_EQ(names, (std::vector<std::string>{"usr", "usr-local", "usr/bin", "usr/bin/sh"}));
  EXPECT_EQ(t.find("usr/bin")->type, EntryType::directory);
  EXPECT_EQ(t.find("usr/bin")->permissions, 0755u);
}

TEST(FsTree, FileReplacingDirectoryDropsItsContents) {
  FsTree t;
  t.put("d/x", file());
  t.put("d", file());
  EXPECT_EQ(t.find("d/x"), nullptr);
  EXPECT_EQ(t.find("d")->type, EntryType::regular);
}

TEST(FsTree, RemoveAndClearChildren) {
  FsTree t;
  t.put("a/b/c", file());
  t.put("a/bb", file());
  t.put("ab", file());
  t.clear_children("a/b");
  EXPECT_NE(t.find("a/b"), nullptr);
  EXPECT_EQ(t.find("a/b/c"), nullptr);
  t.remove("a");
  EXPECT_EQ(t.find("a/bb"), nullptr);
  EXPECT_NE(t.find("ab"), nullptr);  // a sibling sharing the prefix survives
}

}  // namespace
}  // namespace ramfleet::image
